import { jsonCodec } from './codec.js';
import {
  DEFAULT_METRICS_HOST,
  DEFAULT_POLICY,
  DEFAULT_READINESS,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STARTUP_CONCURRENCY,
} from './config/defaults.js';
import { loadConfigFile, parseConfig, parsePluginConfig } from './config/index.js';
import type {
  DiscoveryConfig,
  ManagerConfig,
  PluginConfig,
  PolicyConfig,
  RetryBudgetConfig,
} from './config/types.js';
import { DEFAULT_DISCOVERY } from './config/discovery-schema.js';
import {
  applyReload,
  type ReloadOptions,
  type ReloadResult,
  type ReloadRuntime,
} from './reload/apply.js';
import { diffModels, type ConfigDiff } from './reload/diff.js';
import { watchConfigFile } from './reload/watch.js';
import { Discovery, type DiscoveryStats } from './discovery/Discovery.js';
import { ConfigError, ErrorCode, PluginError, redactSecrets } from './errors.js';
import { balancerNames } from './balance/registry.js';
import type { Balancer } from './balance/types.js';
import {
  TypedEvents,
  type CircuitState,
  type ManagerEvents,
  type ManagerListener,
} from './events.js';
import { PluginLifecycle, type LifecycleHooks } from './health/PluginLifecycle.js';
import { ReadinessTracker, type ReadinessReport } from './health/readiness.js';
import { LevelFilter, silentLogger } from './observe/logger.js';
import type { AdminAddress } from './observe/adminServer.js';
import { MetricsEndpoint } from './observe/metricsEndpoint.js';
import { Counters, type CounterSnapshot, type MetricsOptions } from './observe/stats.js';
import type { CallTracer } from './observe/tracing.js';
import { Call, type CallHost, type InflightCall } from './pipeline/Call.js';
import type { RetryRule } from './resilience/retryPolicy.js';
import { Deadlines } from './pipeline/Deadlines.js';
import { Targets } from './pipeline/Targets.js';
import { PluginSlot, type PluginSnapshot, type PluginState } from './pipeline/PluginSlot.js';
import { settlesWithin } from './internal/timeout.js';
import { ClusterNode } from './cluster/ClusterNode.js';
import type { ClusterStatus } from './cluster/status.js';
import { builtinFactories } from './transport/builtin.js';
import type {
  Codec,
  ExecuteOptions,
  HealthStatus,
  Logger,
  Plugin,
  PluginFactory,
} from './types.js';

/** Options of the {@link Manager} constructor. */
export interface ManagerOptions {
  /**
   * Structured logger; pino and console work as they are. Silent by default. A config's
   * `logLevel` (go-plugins' `log_level`) drops the messages below it before they reach it.
   */
  logger?: Logger | undefined;
  /** Encodes request and response bodies. JSON by default. */
  codec?: Codec | undefined;
  /**
   * Register the built-in transports (http, https, grpc, grpc-tls, unix, exec). Default true;
   * turn off to allow only factories you register yourself.
   */
  builtinTransports?: boolean | undefined;
  /**
   * Traces every call: a span per call and per attempt, with the trace context sent to the
   * plugin. See `createOtelTracer()`. Off by default (calls then pay nothing for tracing).
   */
  tracer?: CallTracer | undefined;
  /** A custom retry rule for every call (docs/resilience.md); per call: `ExecuteOptions.retryRule`. */
  retryRule?: RetryRule | undefined;
}

/** Policy sections and placement accepted by {@link Manager.register}. */
export interface RegisterOptions {
  group?: string | undefined;
  weight?: number | undefined;
  priority?: number | undefined;
  enabled?: boolean | undefined;
  labels?: Record<string, string> | undefined;
  /** Calls may run twice without harm (default false); see docs/resilience.md. */
  idempotent?: boolean | undefined;
  /** Partial policy sections; durations as ms numbers or Go strings ("250ms"). */
  retry?: Record<string, unknown> | undefined;
  circuitBreaker?: Record<string, unknown> | undefined;
  rateLimit?: Record<string, unknown> | undefined;
  healthCheck?: Record<string, unknown> | undefined;
  startup?: Record<string, unknown> | undefined;
  /**
   * `requestTimeout` caps each call. `maxPending` bounds the calls in flight on the plugin
   * (`maxConnections + maxPending`) only when given here: a plugin in code has no queue.
   */
  connection?: Record<string, unknown> | undefined;
}

/** How one plugin's startup ended, as reported by `load()` and `register()`. */
export interface StartResult {
  name: string;
  state: PluginState;
  attempts: number;
  error?: string | undefined;
}

/** What `load()` did. */
export interface LoadResult {
  plugins: StartResult[];
}

/** `manager.metrics()`: call-level counters for the whole manager, attempt-level per plugin. */
export interface MetricsSnapshot {
  global: CounterSnapshot;
  plugins: Record<string, CounterSnapshot>;
  /** Plugin discovery's counters, when the config has discovery on. */
  discovery?: DiscoveryStats | undefined;
}

/** Options of {@link Manager.shutdown}. */
export interface ShutdownOptions {
  /** How long in-flight calls may run before they are aborted. Default 10 000 ms. */
  timeoutMs?: number | undefined;
}

const IN_PROCESS = 'in-process';
/** Plugins registered in code: no config file describes them, so reloads leave them alone. */
const isInCode = (slot: PluginSlot): boolean => slot.config.transport === IN_PROCESS;
const inProcessFactory: PluginFactory = {
  transports: [IN_PROCESS],
  create() {
    throw new Error('in-process plugins are passed to register(), not created from config');
  },
};

/**
 * The plugin manager: the one object a host talks to.
 *
 * ```ts
 * const manager = new Manager<Req, Resp>({ logger: pino() });
 * await manager.load('plugins.yaml');
 * const resp = await manager.execute('payments', req, { timeoutMs: 2_000 });
 * await manager.shutdown();
 * ```
 *
 * `execute()` runs every call through one pipeline: one deadline over all attempts, rate limit,
 * circuit breaker, transport, classification, and retries of transient failures within a budget.
 * Every call settles exactly once, with the response or a {@link PluginError}.
 */
export class Manager<Req = unknown, Resp = unknown> {
  private readonly logger: LevelFilter;
  private readonly codec: Codec;
  private readonly bus: TypedEvents;
  private readonly factories = new Map<string, PluginFactory>();
  private readonly targets = new Targets();
  private readonly host: CallHost;
  private readonly readinessTracker: ReadinessTracker;
  private readonly lifecycleHooks: LifecycleHooks;
  /** whenReady() callers: resolved when ready, rejected (with the reason) at shutdown. */
  private readonly readyWaiters = new Set<{ ready(): void; fail(why: string): void }>();
  private loaded = false;
  private defaults: PolicyConfig = DEFAULT_POLICY;
  private retryBudget: RetryBudgetConfig = DEFAULT_RETRY_BUDGET;
  private startupConcurrency = DEFAULT_STARTUP_CONCURRENCY;
  /** The config's `logLevel`, `metricsPort` and `metricsHost` in force. */
  private serving: Pick<ManagerConfig, 'logLevel' | 'metricsPort' | 'metricsHost'> = {
    metricsPort: 0,
    metricsHost: DEFAULT_METRICS_HOST,
  };
  private readonly metricsEndpoint = new MetricsEndpoint(this);
  private reloads: Promise<void> = Promise.resolve();
  private readonly watchers = new Set<() => void>();
  /**
   * Slots the manager owns that are not routed: new instances a reload has not swapped in yet,
   * and removed or replaced ones still draining. Shutdown closes them too.
   */
  private readonly unrouted = new Set<PluginSlot>();
  private readonly closingSlots = new Set<PluginSlot>();
  private readonly discovery: Discovery;
  /** The running config as given (before discovery added its plugins): watch mode merges into it. */
  private given: ManagerConfig | undefined;
  private discoverySettings: DiscoveryConfig = DEFAULT_DISCOVERY;
  private closing: Promise<void> | undefined;
  /** Set by the first config with a `cluster` section (docs/cluster.md). */
  private clusterNode: ClusterNode | undefined;
  private drained: (() => void) | undefined;

  constructor(options: ManagerOptions = {}) {
    this.logger = new LevelFilter(options.logger ?? silentLogger);
    this.codec = options.codec ?? jsonCodec;
    this.bus = new TypedEvents(this.logger);
    this.lifecycleHooks = {
      logger: this.logger,
      setState: (slot, to, error) => this.setState(slot, to, error),
      attemptFailed: (slot, attempt, error) => {
        const { maxAttempts } = slot.config.startup;
        this.logger.warn(
          { plugin: slot.name, attempt, maxAttempts, err: error },
          `plugwire: start attempt of '${slot.name}' failed`,
        );
        this.bus.emit('startup-attempt-failed', { plugin: slot.name, attempt, maxAttempts, error });
      },
      healthChanged: (slot, status, previous) => {
        this.bus.emit('health-change', {
          plugin: slot.name,
          from: previous.status,
          to: status.status,
          message: status.message,
        });
        this.refreshReadiness(slot);
      },
      healthChecked: (slot, status) => {
        if (!this.bus.has('health-check')) return;
        this.bus.emit('health-check', {
          plugin: slot.name,
          status: status.status,
          responseTimeMs: status.responseTimeMs,
        });
      },
    };

    this.readinessTracker = new ReadinessTracker(DEFAULT_READINESS, (report) => {
      if (report.ready) {
        this.bus.emit('ready', { report });
        for (const waiter of [...this.readyWaiters]) waiter.ready();
      } else {
        this.bus.emit('unready', { report });
      }
    });
    const counters = new Counters();
    this.host = {
      events: this.bus,
      counters,
      tracer: options.tracer,
      retryRule: options.retryRule,
      deadlines: new Deadlines(),
      onIdle: () => this.drained?.(),
      route: (target) => this.targets.route(target),
    };
    this.discovery = new Discovery({
      events: this.bus,
      logger: this.logger,
      parseOptions: () => ({ transports: this.factories }),
      reservedNames: () => [...this.targets.plugins()].filter(isInCode).map((slot) => slot.name),
      rescan: () => this.reapply('discovery'),
    });
    this.factories.set(IN_PROCESS, inProcessFactory);
    if (options.builtinTransports !== false) {
      for (const factory of builtinFactories()) this.registerFactory(factory.transports, factory);
    }
  }

  /**
   * Makes a transport available to configs: `transport: <name>` plugins are created by `factory`.
   * Registering a name again replaces its factory for plugins created afterwards.
   */
  registerFactory(
    transport: string | readonly string[],
    factory: PluginFactory<Req, Resp> | PluginFactory,
  ): void {
    for (const name of typeof transport === 'string' ? [transport] : transport) {
      this.factories.set(name, factory as PluginFactory);
    }
  }

  /**
   * Validates a configuration (an object, or the path of a YAML/JSON file), creates its plugins
   * and starts them in parallel. Resolves once every plugin has finished its startup attempts;
   * a plugin that failed them all is reported in the result, not thrown.
   *
   * An invalid configuration rejects with a {@link ConfigError} listing every problem, and nothing
   * is created. The plugins of the first load form the initial set used by readiness.
   */
  async load(config: unknown): Promise<LoadResult> {
    this.assertOpen();
    const source = typeof config === 'string' ? config : undefined;
    const given = await this.parse(config);
    const parsed = await this.withMembers(await this.discovery.merge(given));
    await this.prepareTransports(parsed.plugins);
    this.assertOpen();
    // From here to the slots being added nothing awaits but the first load's metrics server.
    const problems = this.targets.clashes(parsed, 'load', isInCode);
    const balancers = this.targets.balancers(parsed, false, problems);
    if (problems.length > 0) throw new ConfigError(problems, source);
    // The first load sets the log level and metrics server (a reload changes them later); the
    // server listens before any plugin starts, so that it counts every startup attempt.
    if (!this.loaded) await this.serve(parsed, source);
    this.assertOpen();
    const plugins = this.createPlugins(parsed.plugins);
    this.given = given;
    this.discoverySettings = parsed.discovery;
    this.adopt(parsed, balancers);
    const slots = this.addSlots(plugins.map(({ plugin, config }) => this.newSlot(plugin, config)));
    return { plugins: await this.startAll(slots) };
  }

  /**
   * Moves the running plugins to a new configuration (an object or a YAML/JSON file path)
   * without dropping a call: added plugins start, removed ones are drained and closed, changes
   * a live plugin can take are applied in place, and the others recreate it with `strategy`
   * (`rolling` by default: the old instance serves until the new one has started and passed its
   * first health check). Reloads run one at a time, in call order.
   *
   * An invalid configuration rejects with a {@link ConfigError} and changes nothing. Plugins
   * registered in code are left alone. See docs/reload.md.
   */
  reload(config: unknown, options: ReloadOptions = {}): Promise<ReloadResult> {
    const source = typeof config === 'string' ? config : undefined;
    return this.enqueueReload(source, () => this.parse(config), options);
  }

  /** Runs reloads one at a time, in call order. */
  private enqueueReload(
    source: string | undefined,
    read: () => Promise<ManagerConfig>,
    options: ReloadOptions,
    settle = false,
  ): Promise<ReloadResult> {
    const run = this.reloads.then(() => this.doReload(source, read, options, settle));
    this.reloads = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Reloads `path` whenever its content changes (editors' rename-on-save and Kubernetes
   * ConfigMap symlink swaps included). A file that does not validate keeps the running config
   * and is reported through `reload-failed`. Returns a function that stops watching.
   */
  watch(path: string, options: ReloadOptions & { debounceMs?: number } = {}): () => void {
    const stop = watchConfigFile(path, {
      debounceMs: options.debounceMs,
      onChange: () =>
        this.reload(path, options).then(
          () => undefined,
          () => undefined, // reported by the reload-failed event
        ),
      onError: (error) => this.bus.emit('error', { error, context: `watching ${path}` }),
    });
    const stopWatching = (): void => {
      stop();
      this.watchers.delete(stopWatching);
    };
    this.watchers.add(stopWatching);
    return stopWatching;
  }

  /**
   * Discovery saw a change on disk, or a `cluster.members` group gained or lost a member: the
   * running config (as given) is applied again with what discovery and the registry hold now,
   * through the same reload as any other (rolling for a changed binary).
   */
  private async reapply(source: 'discovery' | 'cluster'): Promise<void> {
    if (this.given === undefined || this.closing !== undefined) return;
    // The config is read when the reload's turn comes: a reload queued before it may change it.
    // `settle` (discovery): files still being written keep their running version (docs/discovery.md).
    const read = async (): Promise<ManagerConfig> => this.given!;
    await this.enqueueReload(source, read, { strategy: 'rolling' }, source === 'discovery').then(
      () => undefined,
      () => undefined, // reported by the reload-failed event
    );
  }

  private async doReload(
    source: string | undefined,
    read: () => Promise<ManagerConfig>,
    options: ReloadOptions,
    settle: boolean,
  ): Promise<ReloadResult> {
    let given: ManagerConfig;
    let next: ManagerConfig;
    let diff: ConfigDiff;
    let balancers: Map<string, Balancer>;
    try {
      this.assertOpen();
      given = await read();
      next = await this.withMembers(await this.discovery.merge(given, settle));
      await this.prepareTransports(next.plugins);
      const problems = this.targets.clashes(next, 'reload', isInCode);
      balancers = this.targets.balancers(next, true, problems);
      if (problems.length > 0) throw new ConfigError(problems, source);
      diff = diffModels(this.currentConfig(), next);
      await this.serve(next, source);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.logger.warn({ source, err: redactSecrets(err.message) }, 'plugwire: reload refused');
      this.bus.emit('reload-failed', { error: err, source });
      throw error;
    }
    this.given = given;
    this.discoverySettings = next.discovery;
    this.bus.emit('reload-start', { diff, source });
    if (!this.loaded) {
      // A reload before any load(): its plugins are the initial set; settings() does the rest.
      this.loaded = true;
      this.readinessTracker.lock(
        next.plugins.map((p) => p.name),
        next.readiness,
      );
    }
    const changedGroups = [...diff.groups.added, ...diff.groups.updated.map((g) => g.name)];
    for (const name of changedGroups) {
      this.targets.setGroup(name, balancers.get(name)!, next.groups[name]);
    }
    const result = await applyReload(this.reloadRuntime, next, diff, options);
    this.targets.dropEmptyGroups(diff.groups.removed);
    this.targets.groupConfigs = { ...next.groups };
    this.logger.info(
      { source, added: result.added, removed: result.removed, recreated: result.recreated },
      'plugwire: reloaded',
    );
    this.bus.emit('reload', { result, source });
    return result;
  }

  /** Applies `logLevel` and brings the metrics server to `metricsPort`/`metricsHost`. */
  private async serve(config: ManagerConfig, source: string | undefined): Promise<void> {
    const { logLevel, metricsPort, metricsHost } = config;
    await this.metricsEndpoint.configure({ port: metricsPort, host: metricsHost }, source);
    this.serving = { logLevel, metricsPort, metricsHost };
    this.logger.setLevel(logLevel);
  }

  /**
   * Joins the cluster the first time a config has a `cluster` section (later changes to the
   * section need a restart: logged); returns `config` with the members of `cluster.members`
   * groups known now added. Throws when ioredis is not installed.
   */
  private async withMembers(config: ManagerConfig): Promise<ManagerConfig> {
    if (config.cluster === undefined) return config;
    if (this.clusterNode === undefined) {
      this.clusterNode = await ClusterNode.start(config.cluster, {
        logger: this.logger,
        events: this.bus,
        membersChanged: () => void this.reapply('cluster'),
      });
    } else if (JSON.stringify(config.cluster) !== JSON.stringify(this.clusterNode.config)) {
      this.logger.warn({}, 'plugwire: cluster settings changed; they apply after a restart');
    }
    const members = this.clusterNode.membership?.plugins() ?? [];
    if (members.length === 0) return config;
    const plugins = [...config.plugins];
    const options = { transports: this.factories };
    for (const member of members) {
      try {
        plugins.push(parsePluginConfig(member, config.defaults, options));
      } catch (error) {
        // One instance announcing nonsense must not stop the others (nor the host's config).
        const err = error instanceof Error ? error : new Error(String(error));
        this.logger.warn({ member: member.name, err: err.message }, 'plugwire: member refused');
        this.bus.emit('error', { error: err, context: `cluster member '${String(member.name)}'` });
      }
    }
    return { ...config, plugins };
  }

  /**
   * This replica's view of the cluster (Redis state, live replicas, leases, decisions made
   * without Redis), or undefined when no `cluster` section is configured.
   */
  cluster(): ClusterStatus | undefined {
    return this.clusterNode?.status();
  }

  private parse(input: unknown): Promise<ManagerConfig> {
    // Exactly the transports this manager can create: with builtinTransports: false, an `http`
    // plugin is a config problem (PLUGIN_1008), not a crash when it is created.
    const transports = new Map(this.factories);
    transports.delete(IN_PROCESS);
    const options = { transports, builtinTransports: false, strategies: balancerNames() };
    return typeof input === 'string'
      ? loadConfigFile(input, options)
      : Promise.resolve().then(() => parseConfig(input, options));
  }

  /** The first configuration sets the defaults, budgets and the locked initial set. */
  private adopt(parsed: ManagerConfig, balancers: Map<string, Balancer>): void {
    if (!this.loaded) {
      this.loaded = true;
      this.defaults = parsed.defaults;
      this.retryBudget = parsed.retryBudget;
      this.targets.policyBase = { defaults: parsed.defaults, retryBudget: parsed.retryBudget };
      this.startupConcurrency = parsed.startupConcurrency;
      this.readinessTracker.lock(
        parsed.plugins.map((p) => p.name),
        parsed.readiness,
      );
    }
    this.targets.groupConfigs = { ...this.targets.groupConfigs, ...parsed.groups };
    for (const [name, balancer] of balancers) {
      this.targets.setGroup(name, balancer, parsed.groups[name]);
    }
  }

  /**
   * The running configuration, as a reload compares it: plugins registered in code left out.
   * With `plugins`, the same settings around those plugins instead (no walk over every plugin).
   */
  private currentConfig(plugins?: PluginConfig[]): ManagerConfig {
    return {
      ...this.serving,
      defaults: this.defaults,
      groups: this.targets.groupConfigs,
      readiness: this.readinessTracker.config,
      retryBudget: this.retryBudget,
      startupConcurrency: this.startupConcurrency,
      discovery: this.discoverySettings,
      plugins:
        plugins ??
        [...this.targets.plugins()].filter((slot) => !isInCode(slot)).map((slot) => slot.config),
    };
  }

  /** Loads what the factories of these plugins' transports need (see PluginFactory.prepare). */
  private async prepareTransports(configs: PluginConfig[]): Promise<void> {
    const factories = new Set(configs.map((config) => this.factories.get(config.transport)));
    await Promise.all([...factories].map((factory) => factory?.prepare?.()));
  }

  /** Creates every plugin of a config, or none: a factory that throws closes the others. */
  private createPlugins(
    configs: PluginConfig[],
  ): Array<{ plugin: Plugin<Req, Resp>; config: PluginConfig }> {
    const created: Array<{ plugin: Plugin<Req, Resp>; config: PluginConfig }> = [];
    try {
      for (const config of configs) created.push({ plugin: this.instantiate(config), config });
    } catch (error) {
      for (const { plugin } of created) void plugin.close().catch(() => undefined);
      throw error;
    }
    return created;
  }

  /**
   * Adds a plugin built in code (an in-process plugin from {@link definePlugin}, or your own
   * {@link Plugin}) and starts it. Policy sections not given come from the loaded `defaults`.
   */
  async register(plugin: Plugin<Req, Resp>, options: RegisterOptions = {}): Promise<StartResult> {
    this.assertOpen();
    const parsed = parsePluginConfig(
      { ...options, name: plugin.name, transport: IN_PROCESS },
      this.defaults,
      { transports: this.factories },
    );
    // A plugin in code has no connections to queue for: unbounded unless maxPending is given.
    const config =
      options.connection?.maxPending === undefined
        ? { ...parsed, connection: { ...parsed.connection, maxPending: Infinity } }
        : parsed;
    // The same name checks as load(), paths relative to the plugin.
    const clashes = this.targets.clashes(
      { ...this.currentConfig([config]), groups: {} },
      'load',
      isInCode,
    );
    if (config.rateLimit.enabled && config.rateLimit.scope === 'cluster' && !this.clusterNode) {
      clashes.push({
        path: 'rateLimit.scope',
        message: 'scope "cluster" needs a manager loaded with a cluster section',
        code: ErrorCode.InvalidConfig,
      });
    }
    if (clashes.length > 0) {
      throw new ConfigError(
        clashes.map((c) => ({ ...c, path: c.path.replace('plugins[0].', '') })),
      );
    }
    this.targets.ensureGroup(config.group);
    const slots = this.addSlots([this.newSlot(plugin, config)]);
    const [result] = await this.startAll(slots);
    return result!;
  }

  /**
   * Removes a plugin: new calls no longer reach it, calls in flight on it may finish within
   * `timeoutMs` (default 10 s) and are aborted after, then the plugin is closed.
   */
  async unregister(name: string, options: ShutdownOptions = {}): Promise<boolean> {
    const slot = this.targets.slot(name);
    if (slot === undefined) return false;
    this.removeSlot(slot);
    this.setState(slot, 'draining');
    await this.drainSlot(slot, options.timeoutMs ?? 10_000);
    await this.closeSlot(slot);
    this.bus.emit('plugin-removed', { plugin: name });
    return true;
  }

  /**
   * Stops (`false`) or resumes (`true`) sending calls to a plugin without closing it: calls to it
   * get `PLUGIN_1202`, and its group routes around it. A plugin disabled since it was loaded is
   * started when first enabled. Resolves once the change (and such a start) is done.
   */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    const slot = this.targets.slot(name);
    if (slot === undefined) {
      throw new PluginError(ErrorCode.PluginNotFound, `No plugin named '${name}'`, {
        plugin: name,
      });
    }
    if (slot.config.enabled === enabled) return;
    slot.config = { ...slot.config, enabled };
    this.refreshReadiness(slot);
    if (enabled && slot.state === 'pending') await this.startSlot(slot);
  }

  /**
   * Calls a plugin (or a group) through the resilience pipeline.
   *
   * @param target a plugin name or group name
   * @param request the request body, encoded by the codec
   * @returns the plugin's response; rejects with a {@link PluginError} (see its `code`)
   */
  execute(target: string, request: Req, options?: ExecuteOptions): Promise<Resp> {
    if (this.closing !== undefined) return Promise.reject(this.closedError(target));
    const route = this.targets.route(target);
    if (route === undefined) {
      return Promise.reject(
        new PluginError(ErrorCode.PluginNotFound, `No plugin or group named '${target}'`, {
          plugin: target,
        }),
      );
    }
    if (options?.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      return Promise.reject(
        new PluginError(ErrorCode.InvalidConfig, `execute(): timeoutMs must be a positive number`, {
          plugin: target,
        }),
      );
    }
    return new Call<Req, Resp>(this.host, route, request, options).run();
  }

  /** A snapshot of every plugin: state, breaker, health and counters. */
  plugins(): PluginSnapshot[] {
    return [...this.targets.plugins()].map((slot) => slot.snapshot());
  }

  /** The last known health of every plugin. Never blocks, never runs a check. */
  health(): Record<string, HealthStatus> {
    const out: Record<string, HealthStatus> = {};
    for (const slot of this.targets.plugins()) out[slot.name] = { ...slot.health };
    return out;
  }

  /** Counters and latency summaries, for the manager as a whole and per plugin. */
  metrics(options?: MetricsOptions): MetricsSnapshot {
    const bounds = options?.latencyBucketsMs;
    const plugins: Record<string, CounterSnapshot> = {};
    for (const slot of this.targets.plugins()) plugins[slot.name] = slot.counters.snapshot(bounds);
    const discovery = this.discovery.enabled ? { ...this.discovery.stats } : undefined;
    return {
      global: this.host.counters.snapshot(bounds),
      plugins,
      ...(discovery && { discovery }),
    };
  }

  /**
   * Whether to send traffic to this host, and why: synchronous, never blocks, never runs a check.
   *
   * The plugins of the first `load()` form the initial set, locked; the manager is ready once
   * each of them has finished its startup attempts and the readiness policy holds (see
   * docs/readiness.md). Plugins added later are reported but never make a ready manager unready.
   * A host that never calls `load()` gets as initial set the plugins registered before readiness
   * is first asked for.
   */
  readiness(): ReadinessReport {
    if (!this.loaded && this.readinessTracker.initialSet === undefined && this.targets.size > 0) {
      this.readinessTracker.lock([...this.targets.plugins()].map((slot) => slot.name));
    }
    return this.readinessTracker.report;
  }

  /**
   * Resolves once {@link readiness} says ready. Rejects with `PLUGIN_1211` after `timeoutMs`
   * (with the reason it is not ready), or when `signal` aborts or the manager shuts down.
   */
  async whenReady(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.readiness().ready) return;
    if (this.closing !== undefined) throw this.closedError(undefined);
    const { timeoutMs, signal } = options;
    let waiter!: { ready(): void; fail(why: string): void };
    const settled = new Promise<void>((resolve, reject) => {
      waiter = {
        ready: resolve,
        fail: (why) =>
          reject(
            new PluginError(
              ErrorCode.PluginNotReady,
              `Not ready ${why}: ${this.readiness().reason}`,
              {
                retryable: true,
              },
            ),
          ),
      };
    });
    this.readyWaiters.add(waiter);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => waiter.fail(`after ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => waiter.fail('(aborted)');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      await settled;
    } finally {
      this.readyWaiters.delete(waiter);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Where the server started by the config's `metricsPort` (go-plugins' `metrics_port`) listens:
   * `/metrics` and the probes `/readyz`, `/livez`, `/healthz`. Undefined when no port is set,
   * and after shutdown. See docs/observability.md.
   */
  adminAddress(): AdminAddress | undefined {
    return this.metricsEndpoint.address();
  }

  /** True once `shutdown()` has been called (the probe handler's liveness reads it). */
  isShuttingDown(): boolean {
    return this.closing !== undefined;
  }

  /** Subscribes to an event; returns a function that unsubscribes. Listener errors are contained. */
  on<K extends keyof ManagerEvents>(event: K, listener: ManagerListener<K>): () => void {
    return this.bus.on(event, listener);
  }

  /** Unsubscribes a listener. */
  off<K extends keyof ManagerEvents>(event: K, listener: ManagerListener<K>): void {
    this.bus.off(event, listener);
  }

  /**
   * Stops the manager: new calls are refused (`PLUGIN_1207`), calls in flight may finish within
   * `timeoutMs` and are aborted after, then every plugin is closed (connections, child processes).
   * Idempotent: later calls return the same promise.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.closing ??= this.doShutdown(options.timeoutMs ?? 10_000);
    return this.closing;
  }

  private async doShutdown(timeoutMs: number): Promise<void> {
    this.readinessTracker.shutdown();
    for (const waiter of [...this.readyWaiters]) waiter.fail('(the manager is shutting down)');
    for (const stop of [...this.watchers]) stop();
    this.discovery.stop();
    for (const slot of [...this.targets.plugins(), ...this.unrouted]) slot.lifecycle?.stop();
    let aborted = 0;
    if (this.host.counters.inFlight > 0) {
      await settlesWithin(new Promise<void>((resolve) => (this.drained = resolve)), timeoutMs);
      for (const call of this.callsInFlight()) {
        aborted++;
        call.abort(this.closedError(undefined));
      }
      this.drained = undefined;
    }
    const slots = [...this.targets.plugins(), ...this.unrouted];
    this.unrouted.clear();
    this.targets.clear();
    await Promise.all(slots.map((slot) => this.closeSlot(slot)));
    await this.clusterNode?.close();
    // Last: the probes answer "shutting down" while the plugins drain.
    await this.metricsEndpoint.close();
    this.host.deadlines.dispose();
    this.bus.emit('shutdown', { abortedCalls: aborted });
    this.bus.clear();
  }

  /** The plugin for a validated config, made by its transport's factory. */
  private instantiate(config: PluginConfig): Plugin<Req, Resp> {
    const factory = this.factories.get(config.transport);
    if (factory === undefined || config.transport === IN_PROCESS) {
      // Validation refuses such configs; this guards a factory unregistered since.
      throw new PluginError(
        ErrorCode.UnsupportedTransport,
        `No factory for transport "${config.transport}" of plugin '${config.name}': register one with manager.registerFactory()`,
        { plugin: config.name },
      );
    }
    return factory.create(config, {
      codec: this.codec,
      logger: this.logger,
      verify: this.discovery.verify,
    }) as Plugin<Req, Resp>;
  }

  private newSlot(plugin: Plugin<Req, Resp>, config: PluginConfig): PluginSlot {
    const slot = new PluginSlot<Req, Resp>(
      plugin,
      config,
      this.retryBudget,
      this.onBreakerTransition,
      this.clusterNode,
    ) as PluginSlot;
    slot.lifecycle = new PluginLifecycle(slot, this.lifecycleHooks);
    return slot;
  }

  /** Routes new slots under their names (and groups), each group rebuilt once. */
  private addSlots(slots: PluginSlot[]): PluginSlot[] {
    this.targets.addAll(slots);
    for (const slot of slots) {
      this.refreshReadiness(slot);
      const { config } = slot;
      this.bus.emit('plugin-added', {
        plugin: config.name,
        transport: config.transport,
        group: config.group,
      });
    }
    return slots;
  }

  /** Stops routing to `slot`: its name, its group, the initial set. */
  private removeSlot(slot: PluginSlot): void {
    if (!this.targets.remove(slot)) return;
    this.readinessTracker.forget(slot.name);
    this.readinessTracker.remove(slot.name);
    if (this.closing === undefined) this.unrouted.add(slot); // until it is closed
  }

  /** What a reload drives: the slots and their lifecycle. */
  private readonly reloadRuntime: ReloadRuntime = {
    slot: (name) => this.targets.slot(name),
    create: (config) => {
      this.assertOpen();
      const slot = this.newSlot(this.instantiate(config), config);
      this.unrouted.add(slot);
      return slot;
    },
    add: (slot) => {
      this.unrouted.delete(slot);
      // A shutdown that began during the reload already closed everything routed: so this too.
      if (this.closing !== undefined) void this.closeSlot(slot);
      else this.addSlots([slot]);
    },
    swap: (old, next) => {
      this.unrouted.delete(next);
      if (this.closing !== undefined) return void this.closeSlot(next);
      this.targets.swap(old, next);
      this.unrouted.add(old); // until it is drained and closed
      this.refreshReadiness(next);
    },
    remove: (slot) => {
      this.removeSlot(slot);
      this.bus.emit('plugin-removed', { plugin: slot.name });
    },
    start: (slot) => this.startSlot(slot),
    drain: (slot, timeoutMs, replaced) => this.drainSlot(slot, timeoutMs, replaced),
    retire: (slot) => this.setState(slot, 'draining'),
    close: (slot) => this.closeSlot(slot),
    configure: async (slot, config) => {
      const group = slot.config.group;
      slot.configure(config);
      this.targets.moved(slot, group);
      this.refreshReadiness(slot);
      if (config.enabled && slot.state === 'pending') await this.startSlot(slot);
    },
    settings: (next, diff) => {
      this.defaults = next.defaults;
      this.startupConcurrency = next.startupConcurrency;
      this.retryBudget = next.retryBudget;
      for (const slot of this.targets.plugins()) slot.budget.configure(next.retryBudget);
      if (diff.readinessChanged) this.readinessTracker.configure(next.readiness);
    },
    step: (step) => this.bus.emit('reload-step', step),
  };

  private readonly onBreakerTransition = (
    slot: PluginSlot,
    from: CircuitState,
    to: CircuitState,
  ): void => {
    const event = { plugin: slot.name, from, to };
    if (to === 'open') {
      this.logger.warn(event, `plugwire: circuit of '${slot.name}' opened`);
      this.bus.emit('circuit-open', event);
    } else if (to === 'half-open') {
      this.bus.emit('circuit-half-open', event);
    } else {
      this.logger.info(event, `plugwire: circuit of '${slot.name}' closed`);
      this.bus.emit('circuit-close', event);
    }
  };

  /** Starts slots with bounded concurrency; each gets `startup.maxAttempts` attempts with backoff. */
  private async startAll(slots: PluginSlot[]): Promise<StartResult[]> {
    const results: StartResult[] = new Array(slots.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < slots.length) {
        const index = next++;
        const slot = slots[index]!;
        await this.startSlot(slot);
        results[index] = {
          name: slot.name,
          state: slot.state,
          attempts: slot.startAttempts,
          ...(slot.lastError === undefined ? {} : { error: slot.lastError }),
        };
      }
    };
    const workers = Math.max(1, Math.min(this.startupConcurrency, slots.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
  }

  private async startSlot(slot: PluginSlot): Promise<void> {
    // A disabled plugin is not started (readiness counts it as done); calls get PLUGIN_1202.
    if (slot.config.enabled) await slot.lifecycle!.start();
  }

  /** Readiness reads the plugins that run: a slot not routed under its name (yet) is not one. */
  private refreshReadiness(slot: PluginSlot): void {
    if (this.targets.slot(slot.name) !== slot) return;
    this.readinessTracker.set({
      name: slot.name,
      state: slot.state,
      health: slot.health,
      startAttempts: slot.startAttempts,
      maxAttempts: slot.config.startup.maxAttempts,
      lastError: slot.lastError,
      enabled: slot.config.enabled,
      healthChecks: slot.config.healthCheck.enabled,
    });
  }

  private setState(slot: PluginSlot, to: PluginState, error?: string): void {
    // `closed` is final: a late step (a reload racing a shutdown) must not bring a slot back.
    if (slot.state === to || slot.state === 'closed') return;
    const from = slot.moveTo(to);
    this.bus.emit('plugin-state', { plugin: slot.name, from, to, error });
    this.refreshReadiness(slot);
  }

  /**
   * Waits until no attempt runs on `slot`, or `timeoutMs`. Then the attempts still on it are
   * ended: `replaced` (a reload) interrupts them with a retryable error so that their calls go
   * on with the new instance; otherwise (removal) their calls fail.
   */
  private async drainSlot(slot: PluginSlot, timeoutMs: number, replaced = false): Promise<void> {
    if (timeoutMs > 0 && (await settlesWithin(slot.idle(), timeoutMs))) return;
    if (slot.counters.inFlight === 0) return;
    // One error per call: the pipeline stamps attempts and plugin on the error it settles with.
    const error = (): PluginError =>
      replaced
        ? new PluginError(ErrorCode.PluginNotReady, `Plugin '${slot.name}' is being replaced`, {
            plugin: slot.name,
            retryable: true,
          })
        : new PluginError(ErrorCode.PluginNotReady, `Plugin '${slot.name}' was removed`, {
            plugin: slot.name,
          });
    for (const call of this.callsInFlight()) {
      if (replaced) call.interrupt(slot, error());
      else if (call.currentPlugin === slot) call.abort(error());
    }
  }

  private async closeSlot(slot: PluginSlot): Promise<void> {
    this.unrouted.delete(slot);
    if (slot.state === 'closed' || this.closingSlots.has(slot)) return;
    this.closingSlots.add(slot);
    slot.lifecycle?.stop();
    try {
      await slot.plugin.close();
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.logger.error(
        { plugin: slot.name, err: redactSecrets(err.message) },
        'plugwire: close failed',
      );
      this.bus.emit('error', { error: err, context: `closing plugin '${slot.name}'` });
    }
    this.closingSlots.delete(slot);
    this.setState(slot, 'closed');
  }

  /** The calls not settled yet: every one of them is watched by the deadlines. */
  private callsInFlight(): InflightCall[] {
    return this.host.deadlines.entries() as unknown as InflightCall[];
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw this.closedError(undefined);
  }

  private closedError(target: string | undefined): PluginError {
    return new PluginError(ErrorCode.ManagerClosed, 'The plugin manager is shut down', {
      plugin: target,
    });
  }
}
