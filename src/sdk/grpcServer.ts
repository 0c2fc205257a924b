/**
 * The gRPC server of the SDK, imported by `serveGrpc()` when it is first called: importing
 * `plugwire/sdk` does not load @grpc/grpc-js.
 */
import { randomUUID } from 'node:crypto';
import { announced } from './announce.js';
import type { ServeGrpcOptions } from './types.js';
import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { Metadata, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { jsonCodec } from '../codec.js';
import { silentLogger } from '../observe/logger.js';
import { handlerTracing, type HandlerTracing } from '../observe/sdkTracing.js';
import { ServingStatus } from '../transport/grpc/messages.js';
import type {
  ExecuteRequestMessage,
  ExecuteResponseMessage,
  HealthCheckRequestMessage,
  HealthCheckResponseMessage,
  InfoResponseMessage,
} from '../transport/grpc/messages.js';
import {
  PLUGIN_SERVICE,
  healthServiceDefinition,
  pluginServiceDefinition,
} from '../transport/grpc/methods.js';
import type { Codec, Logger } from '../types.js';
import { runHandler, runHealth } from './dispatch.js';
import { addStrings } from './records.js';
import type { HandlerOutcome } from './dispatch.js';
import { HandlerCall } from './HandlerCall.js';
import type { Handler, ServeOptions, ServedPlugin } from './types.js';

const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

/** @internal {@link serveGrpc}, once @grpc/grpc-js is loaded. */
export async function startGrpcServer<Req = unknown, Resp = unknown>(
  handler: Handler<Req, Resp>,
  options: ServeGrpcOptions = {},
): Promise<ServedPlugin> {
  const service = new GrpcPluginService(
    handler as Handler<unknown, unknown>,
    options,
    await handlerTracing(options),
  );
  const server = new Server({
    'grpc.max_receive_message_length': options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    'grpc.max_send_message_length': -1,
    // channelz stays on: in grpc-js 1.14 the server only tracks its sessions for channelz, and
    // forceShutdown() destroys only the tracked ones; without it close() could not end calls.
  });
  server.addService(pluginServiceDefinition, { Execute: service.execute, Info: service.info });
  server.addService(healthServiceDefinition, { Check: service.check });

  const host = options.host ?? '127.0.0.1';
  const tcpHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const address = options.socketPath
    ? `unix:${options.socketPath}`
    : `${tcpHost}:${options.port ?? 0}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, serverCredentials(options.tls), (error, boundPort) => {
      if (error) reject(error);
      else resolve(boundPort);
    });
  }).catch((error: unknown) => {
    server.forceShutdown();
    throw new Error(`serveGrpc cannot listen on ${address}: ${(error as Error).message}`, {
      cause: error,
    });
  });

  let closing: Promise<void> | undefined;
  const served: ServedPlugin = {
    endpoint: options.socketPath ? address : `${tcpHost}:${port}`,
    close(closeOptions?: { timeoutMs?: number }): Promise<void> {
      closing ??= shutdown(server, closeOptions?.timeoutMs ?? 5_000);
      return closing;
    },
  };
  return announced(served, options, options.tls ? 'grpc-tls' : 'grpc');
}

/** Graceful first (no new calls, in-flight ones finish), forced after `timeoutMs`. */
function shutdown(server: Server, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function serverCredentials(tls: ServeGrpcOptions['tls']): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  if (tls.requestClientCert && !tls.ca) {
    throw new TypeError(
      'serveGrpc: tls.requestClientCert needs tls.ca to verify client certificates',
    );
  }
  return ServerCredentials.createSsl(
    tls.ca ? Buffer.from(tls.ca) : null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    tls.requestClientCert ?? false,
  );
}

/** The handlers of the three methods; bound once per server, not per call. */
class GrpcPluginService {
  readonly #handler: Handler<unknown, unknown>;
  readonly #options: ServeOptions;
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #info: InfoResponseMessage;
  /** Health service names answered: the whole server, the plugin service, the plugin's name. */
  readonly #services: ReadonlySet<string>;

  readonly #tracing: HandlerTracing | undefined;

  constructor(
    handler: Handler<unknown, unknown>,
    options: ServeOptions,
    tracing: HandlerTracing | undefined,
  ) {
    this.#tracing = tracing;
    this.#handler = handler;
    this.#options = options;
    this.#codec = options.codec ?? jsonCodec;
    this.#logger = options.logger ?? silentLogger;
    const info = options.info ?? { name: 'plugin' };
    this.#info = {
      name: info.name,
      version: info.version ?? '',
      description: info.description ?? '',
      capabilities: info.capabilities ?? [],
      metadata: info.metadata ?? NO_METADATA,
    };
    this.#services = new Set(['', PLUGIN_SERVICE, info.name]);
  }

  readonly execute = (
    call: ServerUnaryCall<ExecuteRequestMessage, ExecuteResponseMessage>,
    callback: sendUnaryData<ExecuteResponseMessage>,
  ): void => {
    try {
      this.#execute(call, callback);
    } catch (error) {
      this.#failed(callback, error);
    }
  };

  #failed(callback: sendUnaryData<ExecuteResponseMessage>, error: unknown): void {
    this.#logger.error({ error: (error as Error).message }, 'gRPC execute failed');
    callback({ code: Status.INTERNAL, details: 'internal error in the plugin server' });
  }

  readonly info = (
    _call: ServerUnaryCall<unknown, InfoResponseMessage>,
    callback: sendUnaryData<InfoResponseMessage>,
  ): void => {
    callback(null, this.#info);
  };

  readonly check = (
    call: ServerUnaryCall<HealthCheckRequestMessage, HealthCheckResponseMessage>,
    callback: sendUnaryData<HealthCheckResponseMessage>,
  ): void => {
    const service = call.request.service;
    if (!this.#services.has(service)) {
      callback({ code: Status.NOT_FOUND, details: `unknown service "${service}"` });
      return;
    }
    const { signal, timeoutMs, release } = callSignal(call);
    const healthSignal =
      timeoutMs === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    runHealth(this.#options, healthSignal).then(
      (health) => {
        release();
        const serving = health.status === 'healthy' || health.status === 'degraded';
        callback(null, { status: serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING });
      },
      (error: unknown) => {
        release();
        callback({ code: Status.INTERNAL, details: (error as Error).message });
      },
    );
  };

  /**
   * Runs an `execute`; the reply is sent when the handler settles (at once when it returns a
   * plain value): no promise of the server's own in between.
   */
  #execute(
    call: ServerUnaryCall<ExecuteRequestMessage, ExecuteResponseMessage>,
    callback: sendUnaryData<ExecuteResponseMessage>,
  ): void {
    const message = call.request;
    let request: unknown;
    try {
      request = this.#codec.decode(message.data);
    } catch (error) {
      callback({
        code: Status.INVALID_ARGUMENT,
        details: `the request cannot be decoded with codec "${this.#codec.name}": ${(error as Error).message}`,
      });
      return;
    }
    const requestId =
      message.requestId || firstValue(call.metadata, 'x-request-id') || randomUUID();
    const handlerCall = new HandlerCall({
      requestId,
      // The call metadata (auth, trace context) with the message's own headers on top.
      headers: addStrings(metadataHeaders(call.metadata), message.headers),
      metadata: message.metadata,
      timeoutMs: timeLeft(call),
    });
    // The listener is on this call's own object: one per call, removed once it is answered.
    const onCancelled = (): void => handlerCall.abort(new Error('the host cancelled the call'));
    call.once('cancelled', onCancelled);
    const outcome = runHandler(this.#handler, request, handlerCall, this.#tracing);
    if (outcome instanceof Promise) {
      void outcome.then((settled) => {
        try {
          this.#answer(call, callback, onCancelled, requestId, settled);
        } catch (error) {
          this.#failed(callback, error);
        }
      });
    } else {
      this.#answer(call, callback, onCancelled, requestId, outcome);
    }
  }

  /** Sends the reply to an `execute` whose handler has settled. */
  #answer(
    call: ServerUnaryCall<ExecuteRequestMessage, ExecuteResponseMessage>,
    callback: sendUnaryData<ExecuteResponseMessage>,
    onCancelled: () => void,
    requestId: string,
    outcome: HandlerOutcome<unknown>,
  ): void {
    call.removeListener('cancelled', onCancelled);
    if (call.cancelled) return;
    if (outcome.ok) {
      let data: Uint8Array;
      try {
        data = encodeReply(this.#codec, outcome.value);
      } catch (error) {
        this.#logger.error({ requestId, error: (error as Error).message }, 'cannot encode reply');
        callback({ code: Status.INTERNAL, details: 'the plugin response cannot be encoded' });
        return;
      }
      callback(null, { data, error: '', retryable: false, metadata: NO_METADATA, requestId });
    } else if (outcome.application) {
      callback(null, {
        data: EMPTY,
        error: outcome.error,
        retryable: false,
        metadata: NO_METADATA,
        requestId,
      });
    } else {
      this.#logger.warn({ requestId, error: outcome.error }, 'plugin handler failed');
      callback({
        code: outcome.retryable ? Status.UNAVAILABLE : Status.INTERNAL,
        details: outcome.error,
      });
    }
  }
}

/**
 * A signal that aborts when the host cancels the call (or its connection goes away), and the
 * time left before the call's deadline. `release()` drops the listener once the work is done.
 */
function callSignal(call: ServerUnaryCall<unknown, unknown>): {
  signal: AbortSignal;
  timeoutMs: number | undefined;
  release(): void;
} {
  const controller = new AbortController();
  const onCancelled = (): void => controller.abort(new Error('the host cancelled the call'));
  call.once('cancelled', onCancelled);
  return {
    signal: controller.signal,
    timeoutMs: timeLeft(call),
    release: () => call.removeListener('cancelled', onCancelled),
  };
}

/** Time left before the call's deadline, ms; undefined when it has none. */
function timeLeft(call: ServerUnaryCall<unknown, unknown>): number | undefined {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  // At least 1 ms: 0 reads as "no deadline", and a passed deadline must abort.
  return Number.isFinite(deadlineMs) ? Math.max(1, deadlineMs - Date.now()) : undefined;
}

function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value ? value : undefined;
}

/** The call's text metadata as headers (binary `-bin` entries and gRPC's own are left out). */
function metadataHeaders(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  const map = metadata.getMap();
  for (const key in map) {
    const value = map[key];
    if (typeof value === 'string' && !key.startsWith('grpc-')) out[key] = value;
  }
  return out;
}

/**
 * The reply's bytes. With the JSON codec, a Buffer from the JSON text: the same bytes as
 * `jsonCodec.encode` (UTF-8 JSON), without TextEncoder's new ArrayBuffer per reply (~0.5 µs);
 * the encoder copies them into the message at once, so the shared pool never leaves here.
 */
function encodeReply(codec: Codec, value: unknown): Uint8Array {
  if (codec !== jsonCodec) return codec.encode(value);
  // undefined for a function or symbol: jsonCodec encodes that as no bytes.
  const text = JSON.stringify(value ?? null) as string | undefined;
  return text === undefined ? EMPTY : Buffer.from(text);
}
