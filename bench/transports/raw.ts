/**
 * The baselines of the transport benchmark: bare clients doing the same wire work as the
 * manager's transports (same envelopes, same request-id size, same deadline), with nothing
 * around them: no pipeline, no breaker, no abort signals, no reply-size limits.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import { Pool } from 'undici';
import type { ExecuteResponseMessage } from '../../src/transport/grpc/messages.js';
import { executeMethod } from '../../src/transport/grpc/methods.js';
import { ROOT, TS_NODE_ARGS } from './servers.js';

/** The deadline every call carries, as the manager's default `requestTimeout` does. */
const TIMEOUT_MS = 30_000;
const NO_ENTRIES: Readonly<Record<string, string>> = Object.freeze({});

/** One baseline client. */
export interface RawClient {
  /** Resolves with the reply's `data`, rejects when the plugin reports an error. */
  call(request: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A bare undici `Pool` posting the HTTP transport's JSON envelope (including its empty
 * `headers`/`metadata`, so the bytes match) and parsing the reply envelope.
 */
export class RawHttp implements RawClient {
  readonly #pool: Pool;
  readonly #path: string;

  constructor(endpoint: string, connections: number) {
    const url = new URL(endpoint);
    this.#pool = new Pool(url.origin, { connections });
    this.#path = `${url.pathname}${url.search}`;
  }

  async call(request: unknown): Promise<unknown> {
    const requestId = randomUUID();
    const reply = await this.#pool.request({
      path: this.#path,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({
        data: request,
        request_id: requestId,
        timeout: TIMEOUT_MS,
        headers: NO_ENTRIES,
        metadata: NO_ENTRIES,
      }),
    });
    const envelope = (await reply.body.json()) as { data?: unknown; error?: unknown };
    if (reply.statusCode !== 200 || envelope.error) {
      throw new Error(`HTTP ${reply.statusCode}: ${JSON.stringify(envelope.error)}`);
    }
    return envelope.data;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/**
 * A bare grpc-js `Client` (default channel options) calling `/plugwire.v1.Plugin/Execute` with
 * the transport's own serializers, the request id in metadata and a deadline.
 */
export class RawGrpc implements RawClient {
  readonly #client: Client;

  constructor(target: string) {
    this.#client = new Client(target, credentials.createInsecure());
  }

  call(request: unknown): Promise<unknown> {
    const requestId = randomUUID();
    const metadata = new Metadata();
    metadata.set('x-request-id', requestId);
    const message = {
      data: Buffer.from(JSON.stringify(request)),
      requestId,
      headers: NO_ENTRIES,
      metadata: NO_ENTRIES,
      contentType: 'application/json',
    };
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        executeMethod.path,
        executeMethod.requestSerialize,
        executeMethod.responseDeserialize,
        message,
        metadata,
        { deadline: Date.now() + TIMEOUT_MS },
        (error, reply?: ExecuteResponseMessage) => {
          if (error) reject(error);
          else if (reply!.error) reject(new Error(reply!.error));
          else resolve(JSON.parse(Buffer.from(reply!.data).toString('utf8')));
        },
      );
    });
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * One newline-JSON conversation over a byte-stream pair: writes `execute` lines as the
 * Unix/exec transports do, matches reply lines by `request_id`. Lines without one (the exec
 * handshake) resolve {@link greeted}.
 */
class NdjsonLink {
  readonly #output: Writable;
  readonly #decoder = new StringDecoder('utf8');
  readonly #waiting = new Map<string, Waiting>();
  #buffered = '';
  #greet!: () => void;
  #refuse!: (error: Error) => void;
  /** Resolves on the first line that carries no request id; rejects if the input closes first. */
  readonly greeted = new Promise<void>((resolve, reject) => {
    this.#greet = resolve;
    this.#refuse = reject;
  });

  constructor(input: Readable, output: Writable) {
    this.#output = output;
    this.greeted.catch(() => {}); // only exec waits for a greeting
    input.on('data', (chunk: Buffer) => this.#push(chunk));
    input.on('close', () => this.#fail(new Error('link closed')));
  }

  get inFlight(): number {
    return this.#waiting.size;
  }

  call(request: unknown): Promise<unknown> {
    const requestId = randomUUID();
    const reply = new Promise<unknown>((resolve, reject) => {
      this.#waiting.set(requestId, { resolve, reject });
    });
    this.#output.write(
      `${JSON.stringify({
        type: 'execute',
        request_id: requestId,
        data: request,
        headers: NO_ENTRIES,
        timeout_ms: TIMEOUT_MS,
      })}\n`,
    );
    return reply;
  }

  #push(chunk: Buffer): void {
    let text = this.#buffered + this.#decoder.write(chunk);
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.#line(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    this.#buffered = text;
  }

  #line(line: string): void {
    const reply = JSON.parse(line) as {
      request_id?: string;
      success?: boolean;
      data?: unknown;
      error?: string;
    };
    if (!reply.request_id) return this.#greet();
    const waiting = this.#waiting.get(reply.request_id);
    if (!waiting) return;
    this.#waiting.delete(reply.request_id);
    if (reply.success === false) waiting.reject(new Error(reply.error));
    else waiting.resolve(reply.data);
  }

  #fail(error: Error): void {
    this.#refuse(error);
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}

/**
 * Bare `net` sockets to a Unix plugin, `connections` of them, each call on the least busy one
 * (the manager's pool picks the same way).
 */
export class RawUnix implements RawClient {
  readonly #links: NdjsonLink[] = [];
  readonly #sockets: Array<ReturnType<typeof createConnection>> = [];

  private constructor() {}

  static async connect(path: string, connections: number): Promise<RawUnix> {
    const client = new RawUnix();
    const connecting: Array<Promise<void>> = [];
    for (let i = 0; i < connections; i++) {
      const socket = createConnection({ path });
      client.#sockets.push(socket);
      client.#links.push(new NdjsonLink(socket, socket));
      connecting.push(
        new Promise((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        }),
      );
    }
    await Promise.all(connecting);
    return client;
  }

  call(request: unknown): Promise<unknown> {
    let best = this.#links[0]!;
    for (const link of this.#links) if (link.inFlight < best.inFlight) best = link;
    return best.call(request);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
  }
}

/**
 * The exec plugin spawned by hand (same program, arguments and environment as the manager's
 * config), spoken to over its stdin/stdout once its handshake line has arrived.
 */
export class RawExec implements RawClient {
  readonly #child: ChildProcess;
  readonly #link: NdjsonLink;
  readonly #exited: Promise<void>;

  private constructor(script: string, nodeArgs: readonly string[]) {
    // A TypeScript plugin runs under ts-node; a plain .mjs one (the minimal server) does not.
    const args = script.endsWith('.ts') ? [...TS_NODE_ARGS, script] : [script, 'stdio'];
    this.#child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TS_NODE_TRANSPILE_ONLY: 'true' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#link = new NdjsonLink(this.#child.stdout!, this.#child.stdin!);
  }

  /** `nodeArgs` go before the script (e.g. `--cpu-prof`). */
  static async spawn(script: string, nodeArgs: readonly string[] = []): Promise<RawExec> {
    const client = new RawExec(script, nodeArgs);
    await client.#link.greeted;
    return client;
  }

  call(request: unknown): Promise<unknown> {
    return this.#link.call(request);
  }

  /** Ends the child's stdin (a plugwire plugin then exits), SIGKILL after 3 s. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
