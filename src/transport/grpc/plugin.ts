import { Client, Metadata, status as Status } from '@grpc/grpc-js';
import type { CallOptions, MethodDefinition } from '@grpc/grpc-js';
import type { PluginConfig } from '../../config/types.js';
import { ErrorCode, PluginError, isPluginError } from '../../errors.js';
import type {
  Cancellation,
  Codec,
  ExecutionContext,
  FactoryDeps,
  HealthState,
  HealthStatus,
  Logger,
  Plugin,
  PluginInfo,
} from '../../types.js';
import { authMetadata, channelCredentials } from './credentials.js';
import { ServingStatus } from './messages.js';
import type { ExecuteRequestMessage, ExecuteResponseMessage } from './messages.js';
import { executeMethod, healthCheckMethod, infoMethod } from './methods.js';
import { channelOptions, grpcOptions } from './options.js';
import type { GrpcOptions } from './options.js';
import { abortError } from '../abort.js';
import { grpcCallError } from './status.js';
import { attemptText } from '../../internal/attempt.js';
import { grpcTarget } from './target.js';
import { MAX_MESSAGE_CHARS, preview } from '../../internal/untrusted.js';

// Metadata the transport sets itself, or that HTTP/2 and gRPC reserve: never copied from headers.
const RESERVED_METADATA = new Set([
  'x-request-id',
  'x-request-attempt',
  'content-type',
  'te',
  'host',
  'user-agent',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** A channel on which nothing was answered for this long, and a call gave up, is retired. */
const CHANNEL_STALL_MS = 1_000;

/** Statuses that mean the probe in `start()` never reached a server. */
const NOT_CONNECTED = new Set<number>([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.CANCELLED,
]);

/**
 * A plugin behind the gRPC transport (`grpc`, `grpc-tls`): `plugwire.v1.Plugin` for execute and
 * info, the standard `grpc.health.v1.Health/Check` for health.
 *
 * One grpc-js channel per instance, created by `start()` or by the first call. Calls never wait
 * for a connection that is known to be failing (no `waitForReady`): they fail at once with a
 * retryable PLUGIN_1205 so the pipeline can back off or fail over. An IDLE channel is the normal
 * state of a new or quiet channel and is never refused; the call itself reconnects it.
 */
export class GrpcPlugin implements Plugin<unknown, unknown> {
  readonly name: string;
  readonly #config: PluginConfig;
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #options: GrpcOptions;
  readonly #target: string;
  readonly #auth: Metadata;
  readonly #authKeys: ReadonlySet<string>;
  #client: Client | undefined;
  #closed = false;
  /** Calls the server answered (any status), to tell a slow plugin from a wedged connection. */
  #answered = 0;
  /** When the server last answered a call on the current channel (epoch ms). */
  #lastAnswerAt = 0;

  constructor(config: PluginConfig, deps: FactoryDeps) {
    this.name = config.name;
    this.#config = config;
    this.#codec = deps.codec;
    this.#logger = deps.logger;
    this.#options = grpcOptions(config);
    try {
      this.#target = grpcTarget(config);
    } catch (error) {
      throw new PluginError(
        ErrorCode.InvalidEndpointFormat,
        `plugin "${config.name}": endpoint ${(error as Error).message}`,
        { plugin: config.name, retryable: false, cause: error },
      );
    }
    const entries = authMetadata(config);
    this.#auth = new Metadata();
    try {
      for (const [key, value] of entries) this.#auth.set(key, value);
    } catch {
      // The grpc-js message would quote the value: it is a secret, so it is not passed on.
      throw new PluginError(
        ErrorCode.UnsupportedAuthMethod,
        `plugin "${config.name}": the ${config.auth.method} credentials contain characters gRPC metadata cannot carry (printable ASCII only, lower-case header names)`,
        { plugin: config.name, retryable: false },
      );
    }
    this.#authKeys = new Set(entries.map(([key]) => key));
  }

  /**
   * Reads the TLS files, opens the channel and checks that a server answers (any gRPC status from
   * the server counts, even UNIMPLEMENTED: health is judged separately). Fails with a retryable
   * PLUGIN_1205 when nothing answers within `connection.connectionTimeout`.
   */
  async start(signal: AbortSignal): Promise<void> {
    const client = this.#channel();
    const deadline = Date.now() + this.#config.connection.connectionTimeout;
    try {
      await this.#unary(
        client,
        healthCheckMethod,
        { service: this.#options.healthService },
        this.#auth.clone(),
        deadline,
        signal,
      );
    } catch (error) {
      if (signal.aborted) throw abortError(this.name, signal.reason);
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number' && !NOT_CONNECTED.has(code)) return;
      if (code === Status.DEADLINE_EXCEEDED) {
        throw new PluginError(
          ErrorCode.PluginConnectionFailed,
          `cannot connect to plugin "${this.name}" at ${this.#target} within connection.connectionTimeout (${this.#config.connection.connectionTimeout} ms)`,
          { plugin: this.name, retryable: true, cause: error },
        );
      }
      throw grpcCallError(error, this.#failedCall(signal));
    }
  }

  /**
   * One `Execute` call. Its promise settles straight from grpc-js's callback (no async wrapper);
   * the attempt's cancellation cancels the call, which then ends with the abort's error.
   */
  execute(request: unknown, ctx: ExecutionContext): Promise<unknown> {
    let client: Client;
    let data: Uint8Array;
    try {
      client = this.#channel();
      data = this.#encode(request);
    } catch (error) {
      return Promise.reject(error);
    }
    const cancellation = ctx.cancellation;
    if (cancellation.aborted) return Promise.reject(abortError(this.name, cancellation.reason));
    const message: ExecuteRequestMessage = {
      data,
      requestId: ctx.requestId,
      headers: ctx.headers,
      metadata: ctx.metadata,
      contentType: this.#codec.contentType,
    };
    const metadata = this.#callMetadata(ctx);
    const options: CallOptions = Number.isFinite(ctx.deadline) ? { deadline: ctx.deadline } : {};
    const answeredBefore = this.#answered;
    return new Promise<unknown>((resolve, reject) => {
      const call = client.makeUnaryRequest(
        executeMethod.path,
        executeMethod.requestSerialize,
        executeMethod.responseDeserialize,
        message,
        metadata,
        options,
        (error, reply) => {
          cancellation.removeEventListener('abort', cancel);
          if (error) {
            const failure = grpcCallError(error, this.#failedCall(cancellation));
            if (cancellation.aborted || failure.code === ErrorCode.PluginTimeout) {
              this.#stalled(client, answeredBefore);
            } else this.#answer();
            reject(failure);
            return;
          }
          this.#answer();
          let value: unknown;
          try {
            value = this.#result(reply!, message.requestId);
          } catch (failure) {
            reject(failure);
            return;
          }
          resolve(value);
        },
      );
      // The call then ends with CANCELLED, which grpcCallError maps from the abort's reason.
      const cancel = (): void => call.cancel();
      cancellation.addEventListener('abort', cancel, { once: true });
    });
  }

  #encode(request: unknown): Uint8Array {
    try {
      return this.#codec.encode(request);
    } catch (error) {
      throw new PluginError(
        ErrorCode.PluginExecutionFailed,
        `the request for plugin "${this.name}" cannot be encoded with codec "${this.#codec.name}": ${(error as Error).message}`,
        { plugin: this.name, retryable: false, cause: error, phase: 'not-sent' },
      );
    }
  }

  /** `plugwire.v1.Plugin/Info`; a server without it (UNIMPLEMENTED) is described by its config name. */
  async info(signal?: AbortSignal): Promise<PluginInfo> {
    const client = this.#channel();
    const deadline = Date.now() + this.#config.connection.requestTimeout;
    try {
      const reply = await this.#unary(client, infoMethod, {}, this.#auth.clone(), deadline, signal);
      const info: PluginInfo = { name: reply.name || this.name };
      if (reply.version) info.version = reply.version;
      if (reply.description) info.description = reply.description;
      if (reply.capabilities.length > 0) info.capabilities = [...reply.capabilities];
      if (Object.keys(reply.metadata).length > 0) info.metadata = { ...reply.metadata };
      return info;
    } catch (error) {
      if (!signal?.aborted && (error as { code?: unknown }).code === Status.UNIMPLEMENTED) {
        return { name: this.name };
      }
      throw grpcCallError(error, this.#failedCall(signal));
    }
  }

  /**
   * `grpc.health.v1.Health/Check` for `options.healthService` (default `""`, the whole server):
   * SERVING is healthy; NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN, an unknown service (NOT_FOUND), a
   * server without the health service (UNIMPLEMENTED) or no answer are unhealthy, with why.
   */
  async health(signal: AbortSignal): Promise<HealthStatus> {
    const started = Date.now();
    let state: HealthState = 'unhealthy';
    let message: string | undefined;
    const service = this.#options.healthService;
    try {
      const client = this.#channel();
      const deadline = started + this.#config.healthCheck.timeout;
      const reply = await this.#unary(
        client,
        healthCheckMethod,
        { service },
        this.#auth.clone(),
        deadline,
        signal,
      );
      if (reply.status === ServingStatus.SERVING) state = 'healthy';
      else
        message = `the server reports ${servingStatusName(reply.status)} for ${serviceLabel(service)}`;
    } catch (error) {
      message = this.#healthFailure(error, service, signal);
    }
    const now = Date.now();
    const status: HealthStatus = { status: state, lastCheck: now, responseTimeMs: now - started };
    if (message !== undefined) status.message = message;
    return status;
  }

  /** Closes the channel; calls in flight finish, new ones fail. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client?.close();
    this.#client = undefined;
  }

  // A call we gave up on (deadline, abort) while no other call on the channel was answered
  // since it was sent: the connection itself may be wedged (a server that sent trailers of
  // 1 MiB left grpc-js's HTTP/2 session holding every later call until its deadline). The
  // channel is retired: calls in flight on it finish, new ones open a fresh connection. This is
  // what undici does with a socket whose request was aborted.
  #stalled(client: Client, answeredBefore: number): void {
    if (this.#answered !== answeredBefore || this.#client !== client) return;
    if (Date.now() - this.#lastAnswerAt < CHANNEL_STALL_MS) return;
    this.#logger.warn(
      { plugin: this.name, target: this.#target },
      'retired a gRPC channel on which a call got no answer; the next call opens a new one',
    );
    this.#client = undefined;
    client.close();
  }

  #answer(): void {
    this.#answered++;
    this.#lastAnswerAt = Date.now();
  }

  #channel(): Client {
    if (this.#client) return this.#client;
    if (this.#closed) {
      // Retryable, as on the other transports: another instance (or a reload's new one) may take it.
      throw new PluginError(ErrorCode.PluginClosed, `plugin "${this.name}" is closed`, {
        plugin: this.name,
        retryable: true,
      });
    }
    const [credentials, tlsOptions] = channelCredentials(this.#config);
    this.#lastAnswerAt = Date.now();
    this.#client = new Client(this.#target, credentials, {
      ...channelOptions(this.#config, this.#options),
      ...tlsOptions,
    });
    this.#logger.debug({ plugin: this.name, target: this.#target }, 'gRPC channel created');
    return this.#client;
  }

  /** One unary call that the signal cancels; rejects with the grpc-js error as is. */
  #unary<Req, Resp>(
    client: Client,
    method: MethodDefinition<Req, Resp>,
    message: Req,
    metadata: Metadata,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Resp> {
    const options: CallOptions = Number.isFinite(deadline) ? { deadline } : {};
    return new Promise<Resp>((resolve, reject) => {
      const call = client.makeUnaryRequest<Req, Resp>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        message,
        metadata,
        options,
        (error, value) => {
          signal?.removeEventListener('abort', cancel);
          if (error) reject(error);
          else resolve(value as Resp);
        },
      );
      // The call ends with CANCELLED, which the caller maps from the signal's reason.
      const cancel = (): void => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /** Request id, the caller's headers (trace context) and the credentials, as call metadata. */
  #callMetadata(ctx: ExecutionContext): Metadata {
    const metadata = this.#authKeys.size > 0 ? this.#auth.clone() : new Metadata();
    if (ctx.requestId) metadata.set('x-request-id', ctx.requestId);
    metadata.set('x-request-attempt', attemptText(ctx.attempt));
    const headers = ctx.headers;
    for (const name in headers) {
      const key = name.toLowerCase();
      if (
        RESERVED_METADATA.has(key) ||
        this.#authKeys.has(key) ||
        key.startsWith('grpc-') ||
        key.endsWith('-bin')
      ) {
        continue;
      }
      try {
        metadata.add(key, headers[name]!);
      } catch {
        // Not legal gRPC metadata (e.g. non-ASCII): it still travels in ExecuteRequest.headers.
      }
    }
    return metadata;
  }

  #result(reply: ExecuteResponseMessage, requestId: string): unknown {
    // The echo is optional; when present it must be ours (as on HTTP): another call's reply must
    // never be returned as this one's.
    if (reply.requestId !== '' && reply.requestId !== requestId) {
      throw new PluginError(
        ErrorCode.InvalidResponse,
        `plugin "${this.name}" answered for another request (request_id ${preview(reply.requestId, 80)})`,
        { plugin: this.name, retryable: false },
      );
    }
    if (reply.error) {
      const details =
        Object.keys(reply.metadata).length > 0
          ? { metadata: safeRecord(reply.metadata) }
          : undefined;
      if (reply.retryable) {
        throw new PluginError(
          ErrorCode.PluginExecutionFailed,
          `plugin "${this.name}" failed: ${preview(reply.error, MAX_MESSAGE_CHARS)}`,
          { plugin: this.name, retryable: true, details, phase: 'replied' },
        );
      }
      throw new PluginError(ErrorCode.ApplicationError, preview(reply.error, MAX_MESSAGE_CHARS), {
        plugin: this.name,
        retryable: false,
        details,
      });
    }
    try {
      return this.#codec.decode(reply.data);
    } catch (error) {
      throw new PluginError(
        ErrorCode.InvalidResponse,
        `plugin "${this.name}" replied with data that codec "${this.#codec.name}" cannot decode: ${(error as Error).message}`,
        { plugin: this.name, retryable: false, cause: error },
      );
    }
  }

  #healthFailure(error: unknown, service: string, signal: AbortSignal): string {
    if (signal.aborted) return 'the health check timed out or was cancelled';
    if (isPluginError(error)) return error.message;
    const code = (error as { code?: unknown }).code;
    if (code === Status.NOT_FOUND) {
      return `the server does not know ${serviceLabel(service)} (set options.healthService)`;
    }
    if (code === Status.UNIMPLEMENTED) {
      return 'the server does not implement grpc.health.v1.Health/Check';
    }
    return grpcCallError(error, this.#failedCall(signal)).message;
  }

  #failedCall(signal: Cancellation | undefined) {
    return {
      plugin: this.name,
      signal,
      maxResponseBytes: this.#config.connection.maxResponseBytes,
    };
  }
}

// The plugin's reply metadata, as error details: values previewed (bounded, redacted).
function safeRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).slice(0, 32)) out[preview(key, 64)] = preview(record[key]);
  return out;
}

function servingStatusName(status: number): string {
  for (const [name, value] of Object.entries(ServingStatus)) if (value === status) return name;
  return `status ${status}`;
}

function serviceLabel(service: string): string {
  return service === '' ? 'the server (service "")' : `health service "${service}"`;
}
