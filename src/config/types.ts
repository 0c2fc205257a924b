/**
 * The validated configuration model. Every duration is in milliseconds, every default applied,
 * every key camelCase. `parseConfig()` turns user input (camelCase or go-plugins snake_case,
 * durations as numbers or Go strings, `${ENV}` references) into these types.
 */

/** Transport names known out of the box; factories may register more. */
export type BuiltinTransport = 'http' | 'https' | 'grpc' | 'grpc-tls' | 'unix' | 'exec';

/** How an HTTP or gRPC plugin authenticates the host (`auth.method`). */
export type AuthMethod = 'none' | 'api-key' | 'bearer' | 'basic' | 'mtls' | 'custom';

/** A plugin's `auth` section; secret fields are redacted everywhere. */
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

/** The `retry` policy: attempts after the first, with exponential backoff and jitter. */
export interface RetryConfig {
  /** Retries after the first attempt (0 = no retry). */
  maxRetries: number;
  initialInterval: number;
  maxInterval: number;
  multiplier: number;
  randomJitter: boolean;
}

/** The `circuitBreaker` policy: consecutive-failure or rate mode, see docs/resilience.md. */
export interface CircuitBreakerConfig {
  enabled: boolean;
  /**
   * `consecutive` (default, as go-plugins documents): open after `failureThreshold` consecutive
   * failures. `rate`: open when the failure percentage over `windowMs` exceeds
   * `errorThresholdPercentage`, once at least `minRequestThreshold` calls were seen.
   */
  mode: 'consecutive' | 'rate';
  failureThreshold: number;
  /** Time open before the first half-open probe. */
  recoveryTimeout: number;
  /**
   * Each failed half-open probe multiplies the next open period by this (default 2): an
   * instance that stays down is probed less and less often. 1 keeps every period at
   * `recoveryTimeout`. A close starts again from `recoveryTimeout`.
   */
  recoveryMultiplier: number;
  /** Longest open period the multiplier can reach (default 5 min; never below `recoveryTimeout`). */
  maxRecoveryTimeout: number;
  minRequestThreshold: number;
  successThreshold: number;
  errorThresholdPercentage: number;
  windowMs: number;
}

/** The `healthCheck` policy: interval, timeout, failures before offline, endpoint. */
export interface HealthCheckConfig {
  enabled: boolean;
  interval: number;
  timeout: number;
  failureLimit: number;
  /** HTTP path or URL for the health check; defaults to `<endpoint>/health`. */
  endpoint?: string | undefined;
}

/** The `connection` section: pool size, queue, timeouts, reply size limit. */
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

/** The `rateLimit` policy: a token bucket per plugin (or per cluster with `scope`). */
export interface RateLimitConfig {
  enabled: boolean;
  requestsPerSecond: number;
  burstSize: number;
  /** How long a call may wait for a token (within its deadline); 0 = reject at once. */
  maxWait: number;
  /**
   * go-plugins' `time_window` ("the period over which the rate is measured"). Accepted so that
   * go-plugins configs load; the bucket refills at `requestsPerSecond` whatever its value.
   */
  timeWindow: number;
  /**
   * `local` (default): the limit holds for this host alone. `cluster`: one limit shared by every
   * replica through Redis (needs the `cluster` section; see docs/cluster.md).
   */
  scope: 'local' | 'cluster';
}

/** The `startup` policy: attempts with backoff, each within `timeout`. */
export interface StartupConfig {
  maxAttempts: number;
  initialInterval: number;
  maxInterval: number;
  /** Time allowed for one attempt (start + first health check). */
  timeout: number;
}

/** TLS settings of an `https` or `grpc-tls` plugin. */
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
  /**
   * Calls to this plugin may run twice without harm (default false): a call that was sent but
   * got no complete reply, or a 5xx, is retried only when idempotent, and only idempotent calls
   * are hedged. `ExecuteOptions.idempotent` overrides it per call. See docs/resilience.md.
   */
  idempotent: boolean;
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

/** The built-in balancing strategies (a manager may register more). */
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

/** One entry of `groups`: the strategy of a group and its options. */
export interface GroupConfig {
  strategy: BalancingStrategy | string;
  /** Strategy-specific options (virtual nodes, window, threshold, …). */
  options: Record<string, unknown>;
  /** Outlier ejection (docs/balancing.md); absent = off. */
  outlierDetection?: OutlierDetectionConfig | undefined;
  /**
   * The group's own policy (docs/resilience.md, "Groups"): a group never borrows a member's.
   * Calls to the group are idempotent when this says so (default false).
   */
  idempotent?: boolean | undefined;
  /** Retry policy of calls to the group; default: `defaults.retry` (each field falls back to it). */
  retry?: RetryConfig | undefined;
  /** Deadline of a call to the group, all attempts (ms); default: `defaults.connection.requestTimeout`. */
  timeout?: number | undefined;
  /** The group's retry budget; default: the top-level `retryBudget`. Its own, not shared. */
  retryBudget?: RetryBudgetConfig | undefined;
  /** Hedging of idempotent calls (absent: off). */
  hedging?: HedgingConfig | undefined;
}

/**
 * Hedging (gRPC A6's hedging policy, for groups): when an idempotent call has no reply after
 * `delay`, the same request is also sent to another member, up to `maxHedges` extra attempts;
 * the first success wins and the others are cancelled. Each hedge takes a retry-budget token.
 */
export interface HedgingConfig {
  /** Wait this long (ms) without a reply before sending the next hedge. */
  delay: number;
  /** Extra attempts at most (1 = one hedge beside the first attempt). */
  maxHedges: number;
}

/**
 * Outlier ejection in the Envoy sense: a member with `consecutiveFailures` failed attempts in a
 * row is taken out of its group for `baseEjectionTime × times ejected` (at most
 * `maxEjectionTime`), unless that would eject more than `maxEjectionPercent` of the group (one
 * member always may be). An ejected member serves only in panic mode.
 */
export interface OutlierDetectionConfig {
  /** Default true once the section is present. */
  enabled: boolean;
  /** Failed attempts in a row that eject a member (Envoy's `consecutive_5xx`, default 5). */
  consecutiveFailures: number;
  /** Ejection time of a first ejection; the n-th lasts n times as long (default 30 s). */
  baseEjectionTime: number;
  /** Longest ejection (default 5 min). */
  maxEjectionTime: number;
  /** Largest share of the group ejected at once, % (default 10; one member always may be). */
  maxEjectionPercent: number;
  /** Each interval a member stays in service takes one off its ejection count (default 10 s). */
  interval: number;
  /**
   * Panic threshold, % (Envoy's `healthy_panic_threshold`, default 50): when fewer of the
   * group's members than this are available and not ejected, ejected members take calls again.
   */
  panicThreshold: number;
}

/** When the initial set counts as ready: see docs/readiness.md. */
export type ReadinessPolicy = 'attempted' | 'healthy' | { minReady: number };

/** The `readiness` section: the policy and the plugins required. */
export interface ReadinessConfig {
  policy: ReadinessPolicy;
  /** Plugins that must be ready (and, once ready, healthy) for the manager to be ready. */
  required: string[];
}

/** The `retryBudget` section: retries allowed as a share of calls, plus a floor. */
export interface RetryBudgetConfig {
  /** Retries allowed as a fraction of calls (0.2 = 20%). */
  ratio: number;
  /** Retries always allowed per second, whatever the ratio. */
  minPerSecond: number;
}

/** Levels of the host logger, lowest first (go-plugins' `log_level`). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The complete, validated model of a configuration, as `parseConfig()` returns it. */
export interface ManagerConfig {
  /**
   * go-plugins' `log_level`: the lowest level passed on to the host's logger. Unset: every
   * message is passed on (the host logger's own level decides).
   */
  logLevel?: LogLevel | undefined;
  /**
   * go-plugins' `metrics_port`: serve `/metrics` and the probes (`/readyz`, `/livez`,
   * `/healthz`) over HTTP on this port. 0 (go-plugins' "not set"): no server.
   */
  metricsPort: number;
  /** The address the metrics server listens on. Default `127.0.0.1` (this host only). */
  metricsHost: string;
  defaults: PolicyConfig;
  groups: Record<string, GroupConfig>;
  readiness: ReadinessConfig;
  retryBudget: RetryBudgetConfig;
  /** Plugins started at once during `load()`. */
  startupConcurrency: number;
  plugins: PluginConfig[];
  /** Host replicas sharing state through Redis (docs/cluster.md); absent = off. */
  cluster?: ClusterConfig | undefined;
  /** Plugins found in directories (off by default). */
  discovery: DiscoveryConfig;
}

/**
 * The `cluster` section: many host replicas sharing limits (and, later, membership and load)
 * through Redis. Absent = no cluster: nothing is loaded, nothing runs, calls pay nothing.
 */
export interface ClusterConfig {
  redis: ClusterRedisConfig;
  /** Prefix of every Redis key, so that several deployments can share one Redis. */
  namespace: string;
  /** This replica's name in Redis; default: `<hostname>-<pid>-<random>`. */
  replicaId?: string | undefined;
  /** How often this replica says it is alive (and learns how many replicas are). */
  heartbeatInterval: number;
  /** A replica not heard from for this long is not counted as live any more. */
  replicaTtl: number;
  /** Timeout of one Redis command; a command that times out counts as Redis unreachable. */
  commandTimeout: number;
  /** How long `load()` waits for the first connection before it goes on without Redis. */
  connectTimeout: number;
  /** Reconnect backoff: first and longest wait between attempts. */
  reconnect: { initialInterval: number; maxInterval: number };
  /**
   * Cluster rate limits: how much of this replica's share of a limit it leases from Redis at
   * once, as time (100 ms of a 300/s limit over 3 replicas = 10 tokens). Shorter = finer
   * sharing, more Redis commands.
   */
  leaseInterval: number;
  /**
   * Shared load view: how often this replica publishes its load on the members of its groups
   * (and reads the others'), in one Redis round trip.
   */
  viewInterval: number;
  /** A replica's published view older than this is not used any more (the replica is gone). */
  viewTtl: number;
  /**
   * Groups whose members come from the registry (instances announce themselves with
   * `serveHttp({ announce })`). Each member becomes a plugin built on `template`.
   */
  members: Record<string, ClusterMembersConfig>;
}

/** One group of {@link ClusterConfig.members}. */
export interface ClusterMembersConfig {
  /** How often the registry (or DNS) is read. */
  refresh: number;
  /**
   * Take the members from DNS instead of the registry: `name` re-resolved every `refresh`
   * (a Kubernetes headless Service, for example).
   */
  dns?: ClusterDnsConfig | undefined;
  /** Plugin fields every member gets (policies, auth, …); the member supplies the rest. */
  template: Record<string, unknown>;
}

/** DNS membership of a {@link ClusterMembersConfig} group. */
export interface ClusterDnsConfig {
  /** The name to resolve (`payments.default.svc.cluster.local`, `_http._tcp.payments…`). */
  name: string;
  /** `A`, `AAAA`, `A+AAAA` (both; the default) or `SRV` (port and weight from the records). */
  type: 'A' | 'AAAA' | 'A+AAAA' | 'SRV';
  /** Port of the members (A/AAAA; SRV records carry theirs). */
  port?: number | undefined;
  /** Transport of the members (default `http`). */
  transport: 'http' | 'https' | 'grpc' | 'grpc-tls';
  /** Path appended to `http(s)://address:port` (default `/`). */
  path: string;
  /** DNS servers (`host:port`) instead of the system's; loopback ones in tests. */
  servers?: string[] | undefined;
}

/** Where Redis is: a `redis://` / `rediss://` / `unix://` URL, or ioredis options as they are. */
export interface ClusterRedisConfig {
  /** A secret (it may hold a password): never logged or shown in errors. */
  url?: string | undefined;
  /** ioredis options (`host`, `port`, `path`, `password`, `tls`, …), passed through. */
  options?: Record<string, unknown> | undefined;
}

/**
 * Plugin discovery (go-plugins' `DiscoveryConfig`, plus plugwire's verification settings):
 * files in `directories` matching `patterns` become plugins. See docs/discovery.md.
 */
export interface DiscoveryConfig {
  /** Default false. */
  enabled: boolean;
  /** Directories to scan (not recursive; a sub-folder with a `plugin.yaml` is one plugin). */
  directories: string[];
  /** File name patterns (`*`, `?`, `[a-z]`, as Go's `filepath.Match`). Default `["*"]`. */
  patterns: string[];
  /** Keep watching the directories and apply what is added, changed or removed. Default false. */
  watchMode: boolean;
  /**
   * Trusted SHA-256 checksums (hex) by file: an absolute path, or a path relative to the
   * discovery directory that holds the file.
   */
  checksums: Record<string, string>;
  /** A `sha256sum`-style file (`<hex>  <path>` lines, paths as for `checksums`), read before each spawn. */
  sumsFile?: string | undefined;
  /** Refuse an exec plugin that has no trusted checksum. Default false. */
  requireChecksums: boolean;
  /** Watch mode: quiet time after the last change, and the interval of the stability check (ms). Default 200. */
  debounceMs: number;
  /** Watch mode: also rescan every `poll` ms (events are unreliable on some mounts); 0 = off. Default 2 000. */
  poll: number;
}
