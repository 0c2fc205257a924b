/**
 * The validated configuration model. Every duration is in milliseconds, every default applied,
 * every key camelCase. `parseConfig()` turns user input (camelCase or go-plugins snake_case,
 * durations as numbers or Go strings, `${ENV}` references) into these types.
 */

/** Transport names known out of the box; factories may register more. */
export type BuiltinTransport = 'http' | 'https' | 'grpc' | 'grpc-tls' | 'unix' | 'exec';

export type AuthMethod = 'none' | 'api-key' | 'bearer' | 'basic' | 'mtls' | 'custom';

export interface AuthConfig {
  method: AuthMethod;
  apiKey?: string | undefined;
  token?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  caFile?: string | undefined;
  /** Custom headers (method `custom`). Values are treated as secrets. */
  headers?: Record<string, string> | undefined;
}

export interface RetryConfig {
  /** Retries after the first attempt (0 = no retry). */
  maxRetries: number;
  initialInterval: number;
  maxInterval: number;
  multiplier: number;
  randomJitter: boolean;
}

export interface CircuitBreakerConfig {
  enabled: boolean;
  /**
   * `consecutive` (default, as go-plugins documents): open after `failureThreshold` consecutive
   * failures. `rate`: open when the failure percentage over `windowMs` exceeds
   * `errorThresholdPercentage`, once at least `minRequestThreshold` calls were seen.
   */
  mode: 'consecutive' | 'rate';
  failureThreshold: number;
  recoveryTimeout: number;
  minRequestThreshold: number;
  successThreshold: number;
  errorThresholdPercentage: number;
  windowMs: number;
}

export interface HealthCheckConfig {
  enabled: boolean;
  interval: number;
  timeout: number;
  failureLimit: number;
  /** HTTP path or URL for the health check; defaults to `<endpoint>/health`. */
  endpoint?: string | undefined;
}

export interface ConnectionConfig {
  maxConnections: number;
  /**
   * Attempts that may wait for a free connection, beyond `maxConnections` in flight. With
   * `maxConnections + maxPending` attempts in flight on a plugin, the next call is refused at
   * once with `RATELIMIT_1502` rather than queued until its deadline.
   */
  maxPending: number;
  maxIdleConnections: number;
  idleTimeout: number;
  connectionTimeout: number;
  requestTimeout: number;
  keepAlive: boolean;
  disableCompression: boolean;
  /** Largest reply accepted, bytes. */
  maxResponseBytes: number;
}

export interface RateLimitConfig {
  enabled: boolean;
  requestsPerSecond: number;
  burstSize: number;
  /** How long a call may wait for a token (within its deadline); 0 = reject at once. */
  maxWait: number;
}

export interface StartupConfig {
  maxAttempts: number;
  initialInterval: number;
  maxInterval: number;
  /** Time allowed for one attempt (start + first health check). */
  timeout: number;
}

export interface TlsConfig {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  serverName?: string | undefined;
  insecureSkipVerify: boolean;
}

/** The policy sections shared by `defaults`, each plugin and `register()` options. */
export interface PolicyConfig {
  retry: RetryConfig;
  circuitBreaker: CircuitBreakerConfig;
  healthCheck: HealthCheckConfig;
  connection: ConnectionConfig;
  rateLimit: RateLimitConfig;
  startup: StartupConfig;
}

export interface PluginConfig extends PolicyConfig {
  name: string;
  transport: string;
  /** URL (`http(s)://`, `grpc://host:port`, `unix:///path`) or socket path. */
  endpoint?: string | undefined;
  /** Unix transport: the socket path (alternative to `endpoint`). */
  socketPath?: string | undefined;
  enabled: boolean;
  group?: string | undefined;
  priority: number;
  weight: number;
  type?: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  options: Record<string, unknown>;
  auth: AuthConfig;
  tls?: TlsConfig | undefined;
  executable?: string | undefined;
  args: string[];
  /** `KEY=value` entries added to the child's environment (exec). */
  env: string[];
  workDir?: string | undefined;
}

export type BalancingStrategy =
  | 'round-robin'
  | 'random'
  | 'least-connections'
  | 'least-latency'
  | 'weighted-random'
  | 'consistent-hash'
  | 'priority'
  | 'p2c'
  | 'adaptive';

export interface GroupConfig {
  strategy: BalancingStrategy | string;
  /** Strategy-specific options (virtual nodes, window, threshold, …). */
  options: Record<string, unknown>;
}

export type ReadinessPolicy = 'attempted' | 'healthy' | { minReady: number };

export interface ReadinessConfig {
  policy: ReadinessPolicy;
  /** Plugins that must be ready (and, once ready, healthy) for the manager to be ready. */
  required: string[];
}

export interface RetryBudgetConfig {
  /** Retries allowed as a fraction of calls (0.2 = 20%). */
  ratio: number;
  /** Retries always allowed per second, whatever the ratio. */
  minPerSecond: number;
}

export interface ManagerConfig {
  defaults: PolicyConfig;
  groups: Record<string, GroupConfig>;
  readiness: ReadinessConfig;
  retryBudget: RetryBudgetConfig;
  /** Plugins started at once during `load()`. */
  startupConcurrency: number;
  plugins: PluginConfig[];
}
