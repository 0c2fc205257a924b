import { parseJson } from '../../internal/untrusted.js';
import type { Pool } from 'undici';
import { toEnvelopeData } from '../../codec.js';
import { ErrorCode, PluginError } from '../../errors.js';
import type { PluginConfig } from '../../config/types.js';
import type {
  Codec,
  ExecutionContext,
  FactoryDeps,
  HealthStatus,
  Logger,
  Plugin,
  PluginInfo,
} from '../../types.js';
import { authHeaders } from './auth.js';
import { Exchange } from './exchange.js';
import type { HttpReply, ReplyReader } from './exchange.js';
import { abortError } from '../abort.js';
import { raceAbort } from './failure.js';
import { failedHealth, healthFromReply } from './health.js';
import { CLOSE_GRACE_MS, closePool, createPool } from './pool.js';
import { ExecuteReplies } from './reply.js';
import { httpRoutes, type HttpRoutes } from './routes.js';
import { loadTlsOptions } from './tls.js';
import { hasKeys } from '../../internal/records.js';
import { formatGoDuration } from '../../internal/goDuration.js';
import { timeLeft } from '../../internal/timeLeft.js';
import { attemptText } from '../../internal/attempt.js';

/**
 * A plugin reached over HTTP(S): each `execute` is one `POST` of the JSON request envelope to the
 * endpoint (one attempt; retries belong to the manager). See docs/protocol/http.md for the wire
 * format.
 *
 * Connections come from one undici `Pool` per origin, opened by {@link HttpPlugin.start} (which
 * also reads the TLS files). Every request is an {@link Exchange}: its reply body is read to the
 * end or the request aborted, within `connection.maxResponseBytes`.
 */
export class HttpPlugin implements Plugin {
  readonly name: string;
  readonly #config: PluginConfig;
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #routes: HttpRoutes;
  readonly #https: boolean;
  /** Credentials and content type, the same on every request. */
  readonly #fixedHeaders: Record<string, string>;
  /** Headers of health and info requests. */
  readonly #getHeaders: Record<string, string>;
  /** Decodes execute replies; reads health and info replies as they are. */
  readonly #replies: ExecuteReplies;
  readonly #rawReplies: RawReplies;
  /** `reset: true` closes the socket after each request when keep-alive is off. */
  readonly #reset: boolean;
  #pool: Pool | undefined;
  /** Only when the health endpoint lives on another origin. */
  #healthPool: Pool | undefined;
  #opening: Promise<Pool> | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: PluginConfig, deps: FactoryDeps) {
    this.name = config.name;
    this.#config = config;
    this.#codec = deps.codec;
    this.#logger = deps.logger;
    this.#routes = httpRoutes(config);
    this.#https = this.#routes.origin.startsWith('https:');
    const auth = authHeaders(config.auth);
    // The envelope is JSON whatever the codec: a non-JSON codec's bytes travel base64 in `data`.
    this.#fixedHeaders = { ...auth, 'content-type': 'application/json' };
    this.#getHeaders = { ...auth, accept: 'application/json' };
    const limit = config.connection.maxResponseBytes;
    this.#replies = new ExecuteReplies(config.name, limit, deps.codec);
    this.#rawReplies = new RawReplies(config.name, limit);
    this.#reset = !config.connection.keepAlive;
  }

  /** Reads the TLS files and opens the connection pool. Safe to call again after a failure. */
  async start(_signal?: AbortSignal): Promise<void> {
    await this.#open();
  }

  execute(request: unknown, ctx: ExecutionContext): Promise<unknown> {
    const cancellation = ctx.cancellation;
    if (cancellation.aborted) return Promise.reject(abortError(this.name, cancellation.reason));
    if (this.#closing) return Promise.reject(this.#closedError());
    const pool = this.#pool;
    if (pool === undefined) {
      // Not started yet: opening reads TLS files, which the exchange's own abort cannot cover.
      return raceAbort(this.#openThenSend(request, ctx), cancellation, this.name);
    }
    return this.#send(pool, request, ctx);
  }

  async #openThenSend(request: unknown, ctx: ExecutionContext): Promise<unknown> {
    return this.#send(await this.#open(), request, ctx);
  }

  #send(pool: Pool, request: unknown, ctx: ExecutionContext): Promise<unknown> {
    // go-plugins' `Timeout string`: the time left as a Go duration, rounded down so that it is
    // never later than the real deadline; "0s" when the call has none.
    let timeout = '0s';
    const left = timeLeft(ctx.deadline);
    if (left !== undefined) {
      if (left < 1) return Promise.reject(deadlinePassed(this.name));
      timeout = formatGoDuration(left);
    }
    const requestId = ctx.requestId;
    const callerHeaders = ctx.headers;
    let body: string;
    try {
      body = JSON.stringify({
        data: toEnvelopeData(this.#codec, request),
        request_id: requestId,
        timeout,
        headers: callerHeaders,
        metadata: ctx.metadata,
      });
    } catch (error) {
      return Promise.reject(
        new PluginError(
          ErrorCode.PluginExecutionFailed,
          `request for plugin "${this.name}" cannot be encoded`,
          { plugin: this.name, retryable: false, cause: error, phase: 'not-sent' },
        ),
      );
    }
    // Copied key by key: an object spread of these (dashed) header names costs ~1.6 µs a call in
    // V8, a loop ~10 ns (docs/performance.md, "Against a minimal hand-written server").
    const headers: Record<string, string> = {};
    if (hasKeys(callerHeaders)) {
      // The caller's headers first, lower-cased, so that ours replace rather than duplicate them.
      for (const name in callerHeaders) headers[name.toLowerCase()] = callerHeaders[name]!;
    }
    const fixed = this.#fixedHeaders;
    for (const name in fixed) headers[name] = fixed[name]!;
    headers['x-request-id'] = requestId;
    headers['x-request-attempt'] = attemptText(ctx.attempt);
    return new Exchange(this.#replies, requestId, ctx.cancellation).send(pool, {
      path: this.#routes.executePath,
      method: 'POST',
      headers,
      body,
      reset: this.#reset,
    });
  }

  /**
   * `GET` the health endpoint: 2xx is healthy, anything else unhealthy (with the status in the
   * message). Never rejects: a check that cannot be made is an unhealthy status with the reason.
   */
  async health(signal: AbortSignal): Promise<HealthStatus> {
    const started = Date.now();
    try {
      return await raceAbort(this.#checkHealth(signal, started), signal, this.name);
    } catch (error) {
      return failedHealth((error as Error).message, started);
    }
  }

  async #checkHealth(signal: AbortSignal, started: number): Promise<HealthStatus> {
    await (this.#pool ?? this.#open());
    const url = this.#routes.health;
    const pool = url.origin === this.#routes.origin ? this.#pool! : this.#healthPool!;
    const { statusCode, bytes } = await this.#get(pool, `${url.pathname}${url.search}`, signal);
    return healthFromReply(statusCode, bytes, started);
  }

  /** A GET on the plugin (health, info) with the same headers, limits and signal as a call. */
  #get(pool: Pool, path: string, signal: AbortSignal): Promise<RawReply> {
    return new Exchange(this.#rawReplies, '', signal).send(pool, {
      path,
      method: 'GET',
      headers: this.#getHeaders,
      reset: this.#reset,
    });
  }

  /**
   * `GET <endpoint>/info`, a JSON {@link PluginInfo}. A plugin without that route (or with an
   * unreadable answer) is described by its configured name alone.
   */
  async info(signal?: AbortSignal): Promise<PluginInfo> {
    const abort = signal ?? AbortSignal.timeout(this.#config.healthCheck.timeout);
    try {
      return await raceAbort(this.#fetchInfo(abort), abort, this.name);
    } catch (error) {
      this.#logger.debug({ plugin: this.name, error: (error as Error).message }, 'no plugin info');
      return { name: this.name };
    }
  }

  async #fetchInfo(signal: AbortSignal): Promise<PluginInfo> {
    const pool = this.#pool ?? (await this.#open());
    const { statusCode, bytes } = await this.#get(pool, this.#routes.infoPath, signal);
    if (statusCode < 200 || statusCode >= 300) return { name: this.name };
    const info = parseJson(bytes.toString('utf8')) as Partial<PluginInfo> | null;
    if (typeof info !== 'object' || info === null || Array.isArray(info))
      return { name: this.name };
    return { ...info, name: typeof info.name === 'string' && info.name ? info.name : this.name };
  }

  /** Lets in-flight requests finish for a short grace, then destroys every socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    await Promise.all([
      closePool(this.#pool, CLOSE_GRACE_MS),
      closePool(this.#healthPool, CLOSE_GRACE_MS),
    ]);
  }

  /** Retryable: another instance of a group, or a reloaded one, may take the call. */
  #closedError(): PluginError {
    return new PluginError(ErrorCode.PluginClosed, `plugin "${this.name}" is closed`, {
      plugin: this.name,
      retryable: true,
    });
  }

  #open(): Promise<Pool> {
    if (this.#closing) return Promise.reject(this.#closedError());
    this.#opening ??= this.#connect().catch((error: unknown) => {
      // Let a later start() try again (a certificate may be mounted late).
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  async #connect(): Promise<Pool> {
    const tls = this.#https ? await loadTlsOptions(this.#config) : undefined;
    if (tls && tls.rejectUnauthorized === false) {
      this.#logger.warn(
        { plugin: this.name },
        'TLS certificate verification is off (tls.insecureSkipVerify)',
      );
    }
    if (this.#closing) throw this.#closedError();
    const { connection } = this.#config;
    const health = this.#routes.health;
    if (health.origin !== this.#routes.origin) {
      const healthTls =
        health.protocol === 'https:' ? (tls ?? (await loadTlsOptions(this.#config))) : undefined;
      this.#healthPool = createPool(health.origin, { ...connection, maxConnections: 1 }, healthTls);
    }
    this.#pool = createPool(this.#routes.origin, connection, tls);
    return this.#pool;
  }
}

/** A health or info reply: its status and body, judged by the caller. */
interface RawReply {
  statusCode: number;
  bytes: Buffer;
}

/** Reads health and info replies of one plugin as they are. */
class RawReplies implements ReplyReader<RawReply> {
  constructor(
    readonly plugin: string,
    readonly limit: number,
  ) {}

  read(reply: HttpReply, bytes: Buffer): RawReply {
    return { statusCode: reply.statusCode, bytes };
  }
}

/** No whole millisecond was left to send the request with. */
function deadlinePassed(plugin: string): PluginError {
  return new PluginError(ErrorCode.PluginTimeout, `${plugin}: deadline exceeded`, {
    plugin,
    retryable: false,
  });
}
