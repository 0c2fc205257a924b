/**
 * The http server of the SDK, imported by `serveHttp()` when it is first called: a plugin
 * served over another transport (an exec plugin, above all) never loads it.
 */
import type { ServeHttpOptions } from './types.js';
import { parseJson } from '../internal/untrusted.js';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fromEnvelopeData, jsonCodec, toEnvelopeData } from '../codec.js';
import { silentLogger } from '../observe/logger.js';
import { handlerTracing, type HandlerTracing } from '../observe/sdkTracing.js';
import type { Codec, Logger } from '../types.js';
import { runHandler, runHealth } from './dispatch.js';
import type { HandlerOutcome } from './dispatch.js';
import { HandlerCall } from './HandlerCall.js';
import type { Handler, ServedPlugin } from './types.js';
import { settlesWithin } from '../internal/timeout.js';
import { readDuration } from '../config/duration.js';
import { announced } from './announce.js';
import { addStrings } from './records.js';

const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** The request envelope (docs/protocol/http.md). */
interface RequestEnvelope {
  data?: unknown;
  request_id?: unknown;
  timeout?: unknown;
  headers?: unknown;
  metadata?: unknown;
}

/** @internal {@link serveHttp}, imported on first use. */
export async function startHttpServer<Req = unknown, Resp = unknown>(
  handler: Handler<Req, Resp>,
  options: ServeHttpOptions = {},
): Promise<ServedPlugin> {
  const tracing = await handlerTracing(options);
  const routes = new HttpServer(handler as Handler<unknown, unknown>, options, tracing);
  const tls = options.tls;
  const server: Server = tls
    ? createHttpsServer({
        cert: tls.cert,
        key: tls.key,
        ...(tls.ca ? { ca: tls.ca } : {}),
        requestCert: tls.requestCert ?? false,
        rejectUnauthorized: tls.requestCert ?? false,
        minVersion: 'TLSv1.2',
      })
    : createHttpServer();
  server.on('request', routes.listener);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => routes.logger.error({ error: error.message }, 'http server error'));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  const served: ServedPlugin = {
    endpoint: `${tls ? 'https' : 'http'}://${urlHost}:${port}${routes.base}`,
    close(closeOptions?: { timeoutMs?: number }): Promise<void> {
      closing ??= routes.shutdown(server, closeOptions?.timeoutMs ?? 5_000);
      return closing;
    },
  };
  return announced(served, options, tls ? 'https' : 'http');
}

/** Routes requests, reads envelopes within the size limit, runs the handler, writes replies. */
class HttpServer {
  /** Execute path without its trailing slash; '' for the root. */
  readonly base: string;
  readonly logger: Logger;
  readonly #handler: Handler<unknown, unknown>;
  readonly #options: ServeHttpOptions;
  readonly #codec: Codec;
  readonly #limit: number;
  readonly #executePath: string;
  readonly #healthPath: string;
  readonly #infoPath: string;
  readonly #tracing: HandlerTracing | undefined;
  #draining = false;

  constructor(
    handler: Handler<unknown, unknown>,
    options: ServeHttpOptions,
    tracing: HandlerTracing | undefined,
  ) {
    this.#handler = handler;
    this.#tracing = tracing;
    this.#options = options;
    this.#codec = options.codec ?? jsonCodec;
    this.logger = options.logger ?? silentLogger;
    this.#limit = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.base = trimPath(options.path ?? '/');
    this.#executePath = this.base || '/';
    this.#healthPath = `${this.base}/health`;
    this.#infoPath = `${this.base}/info`;
  }

  /** The `request` listener; one function per server, not per request. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      this.#route(req, res);
    } catch (error) {
      this.#failed(res, error);
    }
  };

  /** Something threw while answering: 500 if nothing was sent yet, else the connection goes. */
  #failed(res: ServerResponse, error: unknown): void {
    this.logger.error({ error: (error as Error).message }, 'http request failed');
    if (!res.headersSent && !res.destroyed) this.#send(res, 500, { error: 'internal error' });
    else res.destroy();
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    // The execute path as the host sends it needs no trimming.
    const path = url === this.#executePath ? url : trimPath(url.split('?', 1)[0]!) || '/';
    if (this.#draining) {
      res.setHeader('connection', 'close');
      this.#send(res, 503, { error: 'plugin is shutting down', retryable: true });
      return;
    }
    if (path === this.#executePath) {
      if (req.method === 'POST') return this.#readBody(req, res);
      res.setHeader('allow', 'POST');
    } else if (path === this.#healthPath || path === this.#infoPath) {
      if (req.method === 'GET') {
        if (path === this.#infoPath) return this.#info(res);
        this.#health(res).catch((error: unknown) => this.#failed(res, error));
        return;
      }
      res.setHeader('allow', 'GET');
    } else {
      this.#send(res, 404, { error: `no route ${req.method} ${path}` });
      return;
    }
    this.#send(res, 405, { error: `method ${req.method} not allowed` });
  }

  /**
   * Runs an `execute` whose body has been read. The reply is written when the handler settles
   * (at once when it returns a plain value): no promise of the server's own in between.
   */
  #execute(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    let envelope: RequestEnvelope;
    let request: unknown;
    try {
      envelope = parseJson(body.toString('utf8')) as RequestEnvelope;
      if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
        throw new TypeError('the request envelope must be a JSON object');
      }
      request = fromEnvelopeData(this.#codec, envelope.data);
    } catch (error) {
      this.#send(res, 400, { error: `bad request: ${(error as Error).message}`, retryable: false });
      return;
    }
    const requestId =
      typeof envelope.request_id === 'string' && envelope.request_id
        ? envelope.request_id
        : (headerValue(req, 'x-request-id') ?? randomUUID());
    const call = new HandlerCall({
      requestId,
      // The HTTP headers (auth, trace context) with the envelope's own on top.
      headers: requestHeaders(req, envelope.headers),
      metadata: stringRecord(envelope.metadata),
      timeoutMs: envelopeTimeout(envelope.timeout),
    });
    // The listener is on this request's own response: one per request, gone with it ('close'
    // comes once, so `on` rather than `once` and its wrapper).
    (res as CallResponse)[kCall] = call;
    res.on('close', abortUnanswered);
    const outcome = runHandler(this.#handler, request, call, this.#tracing);
    if (outcome instanceof Promise) {
      void outcome.then((settled) => this.#answer(res, requestId, settled));
    } else {
      this.#answer(res, requestId, outcome);
    }
  }

  /** Writes the reply to an `execute` whose handler has settled. */
  #answer(res: ServerResponse, requestId: string, outcome: HandlerOutcome<unknown>): void {
    try {
      if (res.destroyed || res.writableEnded) return;
      if (outcome.ok) {
        let body: string;
        try {
          // The codec, and with the JSON codec JSON itself (a BigInt, a cycle), may refuse.
          const data = toEnvelopeData(this.#codec, outcome.value);
          body = JSON.stringify({ data, error: '', request_id: requestId, metadata: {} });
        } catch (error) {
          this.logger.error({ requestId, error: (error as Error).message }, 'cannot encode reply');
          this.#send(res, 500, {
            error: 'plugin response cannot be encoded',
            retryable: false,
            request_id: requestId,
          });
          return;
        }
        this.#sendText(res, 200, body);
      } else if (outcome.application) {
        this.#send(res, 200, {
          data: null,
          error: outcome.error,
          request_id: requestId,
          metadata: {},
        });
      } else {
        this.logger.warn({ requestId, error: outcome.error }, 'plugin handler failed');
        this.#send(res, 500, {
          error: outcome.error,
          retryable: outcome.retryable,
          request_id: requestId,
        });
      }
    } catch (error) {
      this.#failed(res, error);
    }
  }

  async #health(res: ServerResponse): Promise<void> {
    const abort = new AbortController();
    res.once('close', () => abort.abort(new Error('the host closed the connection')));
    const status = await runHealth(this.#options, abort.signal);
    if (res.destroyed) return;
    const ok = status.status === 'healthy' || status.status === 'degraded';
    this.#send(res, ok ? 200 : 503, status);
  }

  #info(res: ServerResponse): void {
    this.#send(res, 200, this.#options.info ?? { name: 'plugin' });
  }

  /**
   * Reads the body, then runs {@link #execute}; nothing more when it is refused (413) or the host
   * went away while sending it. Stream events, not `for await` or a promise: the async iterator
   * cost a promise and more per chunk.
   */
  #readBody(req: IncomingMessage, res: ServerResponse): void {
    const announced = Number(req.headers['content-length']);
    if (announced > this.#limit) {
      this.#refuseTooLarge(res);
      return;
    }
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let total = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      if (done) return;
      total += chunk.length;
      if (total > this.#limit) {
        done = true;
        req.pause();
        this.#refuseTooLarge(res);
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = (): void => {
      if (done) return;
      done = true;
      const body = chunks === undefined ? (first ?? EMPTY) : Buffer.concat(chunks, total);
      try {
        this.#execute(req, res, body);
      } catch (error) {
        this.#failed(res, error);
      }
    };
    // The connection broke mid-body: nobody to answer. (After the end, a no-op.)
    const onGone = (): void => {
      done = true;
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  }

  #refuseTooLarge(res: ServerResponse): void {
    // The rest of the body is not read: close the connection after the reply.
    res.setHeader('connection', 'close');
    this.#send(res, 413, {
      error: `request body exceeds ${this.#limit} bytes`,
      retryable: false,
    });
  }

  #send(res: ServerResponse, status: number, payload: unknown): void {
    this.#sendText(res, status, JSON.stringify(payload));
  }

  #sendText(res: ServerResponse, status: number, body: string): void {
    if (this.#draining) res.setHeader('connection', 'close');
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  /**
   * Stops accepting connections and requests (new requests on open connections get 503), waits
   * for in-flight requests up to `timeoutMs`, then destroys every connection, which aborts the
   * handlers still running.
   */
  async shutdown(server: Server, timeoutMs: number): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (!(await settlesWithin(closed, timeoutMs))) server.closeAllConnections();
    await closed;
  }
}

function trimPath(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.replace(/\/+$/, '');
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value ? value : undefined;
}

/** The HTTP headers, every value a string (Node keeps `set-cookie` as a list), with `own` on top. */
function requestHeaders(req: IncomingMessage, own: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const headers = req.headers;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
    else if (value !== undefined) out[name] = value.join(', ');
  }
  return Array.isArray(own) ? out : addStrings(out, own);
}

/** A response with the call it answers, for {@link abortUnanswered}. */
interface CallResponse extends ServerResponse {
  [kCall]?: HandlerCall;
}
const kCall = Symbol('plugwire.call');

/** The response closed: if it was never finished, the host went away; abort the handler. */
function abortUnanswered(this: CallResponse): void {
  if (!this.writableFinished) this[kCall]?.abort(new Error('the host closed the connection'));
}

function stringRecord(value: unknown): Record<string, string> {
  return Array.isArray(value) ? {} : addStrings({}, value);
}

/**
 * The envelope's `timeout` in milliseconds: a Go duration string (go-plugins' `Timeout string`,
 * `"2.5s"`, `"300ms"`), or a number of milliseconds (older plugwire hosts). Zero, negative or
 * unreadable: no deadline.
 */
function envelopeTimeout(value: unknown): number | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const reading = readDuration(value);
  return reading.ok && reading.value > 0 ? reading.value : undefined;
}
