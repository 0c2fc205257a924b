/**
 * Error codes. The go-plugins codes are kept as they are so that dashboards and alerts move over;
 * codes marked "plugwire" fill gaps go-plugins left (it reused one code for several situations).
 */
export const ErrorCode = {
  /** plugwire: a configuration was rejected; see {@link ConfigError.issues}. */
  InvalidConfig: 'PLUGIN_1000',
  InvalidPluginName: 'PLUGIN_1001',
  InvalidTransport: 'PLUGIN_1002',
  MissingEndpoint: 'PLUGIN_1003',
  InvalidEndpointURL: 'PLUGIN_1004',
  InvalidEndpointFormat: 'PLUGIN_1005',
  MissingSocketPath: 'PLUGIN_1006',
  MissingExecutable: 'PLUGIN_1007',
  UnsupportedTransport: 'PLUGIN_1008',
  NoPluginsConfigured: 'PLUGIN_1009',
  DuplicatePluginName: 'PLUGIN_1010',
  InvalidJSONConfig: 'PLUGIN_1011',

  MissingAPIKey: 'AUTH_1101',
  MissingBearerToken: 'AUTH_1102',
  MissingBasicCredentials: 'AUTH_1103',
  MissingMTLSCerts: 'AUTH_1104',
  UnsupportedAuthMethod: 'AUTH_1105',

  PluginNotFound: 'PLUGIN_1201',
  PluginNotEnabled: 'PLUGIN_1202',
  PluginExecutionFailed: 'PLUGIN_1203',
  PluginTimeout: 'PLUGIN_1204',
  PluginConnectionFailed: 'PLUGIN_1205',
  /** plugwire: the caller aborted the call through its `signal`. */
  CallAborted: 'PLUGIN_1206',
  /** plugwire: the manager is shutting down or has shut down. */
  ManagerClosed: 'PLUGIN_1207',
  /** plugwire: the plugin answered "no" (its own error); never retried, never counted by the breaker. */
  ApplicationError: 'PLUGIN_1208',
  /** plugwire: the plugin's reply could not be understood (bad JSON, wrong id, truncated frame). */
  InvalidResponse: 'PLUGIN_1209',
  /** plugwire: the plugin's reply exceeded `connection.maxResponseBytes`. */
  ResponseTooLarge: 'PLUGIN_1210',
  /** plugwire: the plugin is not started yet, or failed to start (the message has its last error). */
  PluginNotReady: 'PLUGIN_1211',
  /**
   * plugwire: a discovered plugin was refused: its binary does not match its trusted SHA-256
   * (or has none while `requireChecksums` is on), or a file or directory is writable by others,
   * or a path leads outside the scanned directory. See docs/discovery.md.
   */
  PluginVerificationFailed: 'PLUGIN_1212',
  /** plugwire: `whenReady()` gave up: its timeout passed, its signal aborted or the manager shut down. */
  ManagerNotReady: 'PLUGIN_1213',
  /**
   * plugwire: the plugin was removed, or replaced by a reload, while the call ran on it and the
   * drain timeout passed. Retryable when replaced (the call goes on with the new instance).
   */
  PluginRemoved: 'PLUGIN_1214',
  /** plugwire: the plugin instance was closed (`close()`) before or while the call ran. */
  PluginClosed: 'PLUGIN_1215',

  HTTPTransportError: 'TRANSPORT_1301',
  GRPCTransportError: 'TRANSPORT_1302',
  ExecTransportError: 'TRANSPORT_1304',

  CircuitBreakerOpen: 'CIRCUIT_1401',

  RateLimitExceeded: 'RATELIMIT_1501',
  /**
   * plugwire: the plugin already has `connection.maxConnections + connection.maxPending` attempts
   * in flight; the call is refused at once instead of queueing. Retryable elsewhere: the
   * pipeline does not retry it on the same plugin (a group routes around a full member).
   */
  PluginQueueFull: 'RATELIMIT_1502',

  HealthCheckFailed: 'HEALTH_1601',
  HealthCheckTimeout: 'HEALTH_1602',

  NoAvailablePlugins: 'LOADBALANCER_1701',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * How far a failed attempt got (see docs/resilience.md, "Retries"):
 * - `not-sent`: the request never left the host (connection refused, DNS, pool closed, queue
 *   full, breaker open, rejected before writing). The plugin cannot have run it.
 * - `sent`: the request was (or may have been) written, but no complete reply came (reset after
 *   write, child exited mid-call, stream broken). The plugin may have run it.
 * - `replied`: the plugin answered (an HTTP status, a gRPC code, an envelope error).
 * - `timeout`: the deadline passed first.
 * - `aborted`: the caller (or a shutdown) gave up.
 */
export type FailurePhase = 'not-sent' | 'sent' | 'replied' | 'timeout' | 'aborted';

/** Options accepted by the {@link PluginError} constructor. */
export interface PluginErrorOptions {
  /** How far the attempt got; by default derived from the code (see {@link PluginError.phase}). */
  phase?: FailurePhase | undefined;
  /**
   * The plugin asked to wait this long before a retry (HTTP `Retry-After`, gRPC
   * `grpc-retry-pushback-ms`, envelope `retry_after_ms`).
   */
  retryAfterMs?: number | undefined;
  /** The plugin (or target) the error is about. */
  plugin?: string | undefined;
  /** Attempts made before the error was returned (0 when none was made). */
  attempts?: number | undefined;
  /** Whether retrying the same call could succeed. */
  retryable?: boolean | undefined;
  /** The underlying error. */
  cause?: unknown;
  /** Extra structured detail (never secrets). */
  details?: Record<string, unknown> | undefined;
  /** @internal the message is already redacted (skip the pattern pass). */
  redacted?: boolean | undefined;
}

const PLUGIN_ERROR_MARK = Symbol.for('plugwire.PluginError');

/**
 * The one error type plugwire throws. Every failure carries a stable `code`, the `plugin` it
 * concerns, the number of `attempts` made, whether it is `retryable`, and the `cause`.
 *
 * Use {@link isPluginError} rather than `instanceof`: the guard works across copies of the package.
 */
export class PluginError extends Error {
  /** Stable machine-readable code, see {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** The plugin or target the error concerns, when known. */
  readonly plugin: string | undefined;
  /** How many attempts were made before this error was returned. */
  readonly attempts: number;
  /** Whether the same call may succeed if tried again. */
  readonly retryable: boolean;
  /**
   * How far the (last) attempt got: `not-sent`, `sent`, `replied`, `timeout` or `aborted`. The
   * retry policy decides from it (docs/resilience.md). When a transport does not say, it is
   * derived from the code, conservatively: a failure that may have reached the plugin is `sent`.
   */
  readonly phase: FailurePhase;
  /** How long the plugin asked the host to wait before retrying (ms), when it said. */
  readonly retryAfterMs: number | undefined;
  /** Extra structured detail, safe to log. */
  readonly details: Record<string, unknown> | undefined;
  /** @internal cross-copy marker */
  readonly [PLUGIN_ERROR_MARK] = true;

  constructor(code: ErrorCode, message: string, options: PluginErrorOptions = {}) {
    super(
      options.redacted === true ? message : redactSecrets(message),
      options.cause === undefined ? undefined : { cause: redactedCause(options.cause) },
    );
    this.name = 'PluginError';
    this.code = code;
    this.plugin = options.plugin;
    this.attempts = options.attempts ?? 0;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
    this.phase = options.phase ?? phaseOfCode(code);
    this.retryAfterMs = options.retryAfterMs;
  }

  /** A JSON view safe to log or return: secrets are redacted, the cause is summarised. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause;
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      plugin: this.plugin,
      attempts: this.attempts,
      retryable: this.retryable,
      phase: this.phase,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.details ? { details: this.details } : {}),
      ...(cause === undefined
        ? {}
        : {
            cause: isPluginError(cause)
              ? cause.toJSON()
              : cause instanceof Error
                ? {
                    name: cause.name,
                    message: redactSecrets(cause.message),
                    code: errnoCode(cause),
                  }
                : redactSecrets(String(cause)),
          }),
    };
  }
}

/** The phase of an error whose transport did not say: conservative (`sent` when unsure). */
function phaseOfCode(code: ErrorCode): FailurePhase {
  switch (code) {
    case ErrorCode.PluginTimeout:
    case ErrorCode.HealthCheckTimeout:
      return 'timeout';
    case ErrorCode.CallAborted:
    case ErrorCode.ManagerClosed:
      return 'aborted';
    case ErrorCode.ApplicationError:
    case ErrorCode.InvalidResponse:
    case ErrorCode.ResponseTooLarge:
    case ErrorCode.HTTPTransportError:
    case ErrorCode.GRPCTransportError:
      return 'replied';
    case ErrorCode.PluginConnectionFailed:
    case ErrorCode.PluginExecutionFailed:
    case ErrorCode.ExecTransportError:
    case ErrorCode.HealthCheckFailed:
      return 'sent';
    default:
      // Config, auth, not found, not ready, breaker open, rate limit, queue full, no member:
      // refused before anything was written.
      return 'not-sent';
  }
}

/**
 * A copy of `error` with another phase (and optionally another `retryable`): what a transport
 * uses when the same failure (a closed link) reaches calls that were written and calls that
 * were still queued.
 */
export function withPhase(
  error: PluginError,
  phase: FailurePhase,
  retryable: boolean = error.retryable,
): PluginError {
  if (error.phase === phase && error.retryable === retryable) return error;
  return new PluginError(error.code, error.message, {
    plugin: error.plugin,
    attempts: error.attempts,
    retryable,
    cause: error.cause,
    details: error.details,
    phase,
    retryAfterMs: error.retryAfterMs,
    redacted: true,
  });
}

/**
 * @internal Fills in what the pipeline learns after a transport built the error: the plugin it
 * ran on (when the transport did not name it) and the attempts the call made. The public fields
 * stay read-only for users.
 */
export function annotateError(
  error: PluginError,
  plugin: string | undefined,
  attempts?: number,
): PluginError {
  const writable = error as { plugin: string | undefined; attempts: number };
  if (writable.plugin === undefined && plugin !== undefined) writable.plugin = plugin;
  if (attempts !== undefined && writable.attempts < attempts) writable.attempts = attempts;
  return error;
}

/**
 * The cause to keep on a PluginError: as it is when nothing in it reads as a secret, else a
 * redacted copy (name, message, code, stack; other fields dropped), so that `console.error(err)`
 * and loggers that walk `err.cause` never print what {@link redactSecrets} removes from messages.
 */
function redactedCause(cause: unknown): unknown {
  if (isPluginError(cause)) return cause;
  if (typeof cause === 'string') return redactSecrets(cause);
  if (!(cause instanceof Error)) return cause;
  let leaks = false;
  const fields = cause as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack', ...Object.keys(cause)]) {
    const value = fields[key];
    if (value === undefined || value === null || key === 'cause') continue;
    // Objects (gRPC metadata, response bodies) cannot be vetted cheaply: they go.
    if (
      typeof value === 'object' ||
      (typeof value === 'string' && redactSecrets(value) !== value)
    ) {
      leaks = true;
      break;
    }
  }
  if (!leaks) return cause;
  const copy = new Error(redactSecrets(cause.message));
  copy.name = cause.name;
  if (cause.stack !== undefined) copy.stack = redactSecrets(cause.stack);
  const code = fields.code;
  if (typeof code === 'string' || typeof code === 'number') {
    (copy as Error & { code?: unknown }).code = code;
  }
  return copy;
}

/** One problem found in a configuration. */
export interface ConfigIssue {
  /** Where the problem is, e.g. `plugins[2].endpoint`. */
  path: string;
  /** What is wrong, and how to fix it when known. Never contains a secret value. */
  message: string;
  /** The go-plugins code for the problem when there is one, else `PLUGIN_1000`. */
  code: ErrorCode;
}

/** A configuration was rejected. `issues` lists every problem by path; nothing was changed. */
export class ConfigError extends PluginError {
  /** Every problem found, in document order. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source?: string, options: { cause?: unknown } = {}) {
    // Each issue's message is redacted on its own: the `path: message` lines would otherwise read
    // as `token: <value>` to the pattern pass and lose their first word.
    const safe = issues.map((i) => ({
      ...i,
      path: redactSecrets(i.path),
      message: redactSecrets(i.message),
    }));
    const head = `Invalid plugwire configuration${source ? ` in ${redactSecrets(source)}` : ''} (${safe.length} problem${safe.length === 1 ? '' : 's'})`;
    const lines = safe.map((i) => `  - ${i.path || '(root)'}: ${i.message} [${i.code}]`);
    super(ErrorCode.InvalidConfig, `${head}:\n${lines.join('\n')}`, {
      retryable: false,
      redacted: true,
      cause: options.cause,
    });
    this.name = 'ConfigError';
    this.issues = safe;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** True when `value` is a {@link PluginError}, from any copy of plugwire. */
export function isPluginError(value: unknown): value is PluginError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[PLUGIN_ERROR_MARK] === true
  );
}

/** True when `value` is a {@link ConfigError}, from any copy of plugwire. */
export function isConfigError(value: unknown): value is ConfigError {
  return isPluginError(value) && value.code === ErrorCode.InvalidConfig && 'issues' in value;
}

/** True when `value` is the plugin's own "no": an application error, never retried. */
export function isApplicationError(value: unknown): value is PluginError {
  return isPluginError(value) && value.code === ErrorCode.ApplicationError;
}

/**
 * The error an in-memory plugin throws to answer "no" (the equivalent of the wire envelope's
 * `error` field). It reaches the caller as a {@link PluginError} with code `PLUGIN_1208`; it is
 * never retried and never counted by the circuit breaker.
 */
export function applicationError(message: string, details?: Record<string, unknown>): PluginError {
  return new PluginError(ErrorCode.ApplicationError, message, { retryable: false, details });
}

/** The errno-style code of a Node error (`ECONNRESET`, …), if any. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Whether an arbitrary thrown value looks transient: a connection-level errno, a socket hang-up,
 * or an error explicitly marked `retryable: true`.
 */
export function isTransientError(error: unknown): boolean {
  if (isPluginError(error)) return error.retryable;
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { retryable?: unknown }).retryable === true) return true;
  const code = errnoCode(error);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /socket hang up/i.test(message);
}

// Values of these keys, wherever they appear in `key=value`, `key: value` or JSON, are secrets.
// Not inside a `${NAME:-fallback}` reference: `${API_TOKEN:-…}` in a hint names a variable.
const SECRET_KEY =
  /(?<!\$\{[A-Za-z0-9_]*)(["']?(?:api[_-]?key|token|password|passwd|secret|authorization|x-api-key|client[_-]?secret)["']?\s*[:=]\s*)(["']?)(?:Bearer\s+|Basic\s+)?[^\s"',}]+\2/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;

/**
 * Removes what looks like a secret from a message: values of token/password/api-key fields,
 * `Bearer`/`Basic` credentials, and `user:pass@` in URLs. Registered secret values (config secrets,
 * registered when a configuration is read) are removed wherever they appear.
 */
export function redactSecrets(text: string): string {
  let out = text;
  if (knownSecrets.size > 0) {
    for (const secret of knownSecrets) {
      if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    }
  }
  return out
    .replace(SECRET_KEY, '$1$2[REDACTED]$2')
    .replace(AUTH_SCHEME, '$1 [REDACTED]')
    .replace(URL_CREDENTIALS, '$1[REDACTED]@');
}

// Secret values seen in configs (the secret fields listed in config/secrets.ts, whether typed in
// or read from ${ENV}). Only values of 4+ characters, so that redaction never shreds ordinary text.
const knownSecrets = new Set<string>();

/** @internal Records a secret value so that it is redacted from every message. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) knownSecrets.add(value);
}
