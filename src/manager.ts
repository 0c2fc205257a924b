import { jsonCodec } from './codec.js';
import {
  DEFAULT_POLICY,
  DEFAULT_READINESS,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STARTUP_CONCURRENCY,
} from './config/defaults.js';
import { loadConfigFile, parseConfig, parsePluginConfig } from './config/index.js';
import type {
  GroupConfig,
  ManagerConfig,
  PluginConfig,
  PolicyConfig,
  RetryBudgetConfig,
} from './config/types.js';
import {
  applyReload,
  type ReloadOptions,
  type ReloadResult,
  type ReloadRuntime,
} from './reload/apply.js';
import { diffConfigs, type ConfigDiff } from './reload/diff.js';
import { watchConfigFile } from './reload/watch.js';
import {
  ConfigError,
  ErrorCode,
  PluginError,
  isConfigError,
  redactSecrets,
  type ConfigIssue,
} from './errors.js';
import { GroupRoute } from './balance/GroupRoute.js';
import { balancerNames, createBalancer } from './balance/registry.js';
import type { Balancer } from './balance/types.js';
import {
  TypedEvents,
  type CircuitState,
  type ManagerEvents,
  type ManagerListener,
} from './events.js';
import { PluginLifecycle, type LifecycleHooks } from './health/PluginLifecycle.js';
import { ReadinessTracker, type ReadinessReport } from './health/readiness.js';
import { silentLogger } from './observe/logger.js';
import { Counters, type CounterSnapshot, type MetricsOptions } from './observe/stats.js';
import type { CallTracer } from './observe/tracing.js';
import { Call, type CallHost, type InflightCall } from './pipeline/Call.js';
import {
  PluginSlot,
  type PluginSnapshot,
  type PluginState,
  type Route,
} from './pipeline/PluginSlot.js';
import { settlesWithin } from './internal/timeout.js';
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
  /** Structured logger; pino and console work as they are. Silent by default. */
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
}

/** Policy sections and placement accepted by {@link Manager.register}. */
export interface RegisterOptions {
  group?: string | undefined;
  weight?: number | undefined;
  priority?: number | undefined;
  enabled?: boolean | undefined;
  labels?: Record<string, string> | undefined;
  /** Partial policy sections; durations as ms numbers or Go strings ("250ms"). */
  retry?: Record<string, unknown> | undefined;
  circuitBreaker?: Record<string, unknown> | undefined;
  rateLimit?: Record<string, unknown> | undefined;
  healthCheck?: Record<string, unknown> | undefined;
  startup?: Record<string, unknown> | undefined;
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
}

/** Options of {@link Manager.shutdown}. */
export interface ShutdownOptions {
  /** How long in-flight calls may run before they are aborted. Default 10 000 ms. */
  timeoutMs?: number | undefined;
}

const IN_PROCESS = 'in-process';
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
  private readonly logger: Logger;
  private readonly codec: Codec;
  private readonly bus: TypedEvents;
  private readonly factories = new Map<string, PluginFactory>();
  private readonly slots = new Map<string, PluginSlot<Req, Resp>>();
  private readonly routes = new Map<string, Route>();
  private readonly groups = new Map<string, GroupRoute<PluginSlot>>();
  private readonly host: CallHost;
  private readonly inflight = new Set<InflightCall>();
  private readonly readinessTracker: ReadinessTracker;
  private readonly lifecycleHooks: LifecycleHooks;
  private readyWaiters = new Set<() => void>();
  private loaded = false;
  private defaults: PolicyConfig = DEFAULT_POLICY;
  private retryBudget: RetryBudgetConfig = DEFAULT_RETRY_BUDGET;
  private startupConcurrency = DEFAULT_STARTUP_CONCURRENCY;
  private groupConfigs: Record<string, GroupConfig> = {};
  private reloads: Promise<void> = Promise.resolve();
  private readonly watchers = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(options: ManagerOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.codec = options.codec ?? jsonCodec;
    this.bus = new TypedEvents(this.logger);
    this.lifecycleHooks = {
      logger: this.logger,
      setState: (slot, to, error) => this.setState(slot as PluginSlot<Req, Resp>, to, error),
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
        this.refreshReadiness();
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
        for (const resolve of [...this.readyWaiters]) resolve();
      } else {
        this.bus.emit('unready', { report });
      }
    });
    const counters = new Counters();
    this.host = {
      events: this.bus,
      counters,
      tracer: options.tracer,
      inflight: this.inflight,
      onCallSettled: () => {
        if (this.drained !== undefined && this.inflight.size === 0) this.drained();
      },
      route: (target) => this.routes.get(target),
    };
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
    const parsed = await this.parse(config);
    const problems = this.namespaceProblems(parsed);
    const balancers = this.createBalancers(parsed, problems);
    if (problems.length > 0) throw new ConfigError(problems, source);
    const plugins = this.createPlugins(parsed.plugins);
    this.adopt(parsed, balancers);
    const slots = plugins.map(({ plugin, config }) => this.addSlot(plugin, config));
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
    const run = this.reloads.then(() => this.doReload(config, options));
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

  private async doReload(input: unknown, options: ReloadOptions): Promise<ReloadResult> {
    const source = typeof input === 'string' ? input : undefined;
    let next: ManagerConfig;
    let diff: ConfigDiff;
    try {
      this.assertOpen();
      next = await this.parse(input);
      const problems = this.reloadProblems(next);
      if (problems.length > 0) throw new ConfigError(problems, source);
      diff = diffConfigs(this.currentConfig(), next);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.logger.warn({ source, err: redactSecrets(err.message) }, 'plugwire: reload refused');
      this.bus.emit('reload-failed', { error: err, source });
      throw error;
    }
    this.bus.emit('reload-start', { diff, source });
    if (!this.loaded) this.adopt(next, new Map());
    const result = await applyReload(this.reloadRuntime, next, diff, options);
    for (const name of diff.groups.removed) {
      if (this.groups.get(name)?.members.length === 0) {
        this.groups.delete(name);
        this.routes.delete(name);
      }
    }
    this.groupConfigs = { ...next.groups };
    this.logger.info(
      { source, added: result.added, removed: result.removed, recreated: result.recreated },
      'plugwire: reloaded',
    );
    this.bus.emit('reload', { result, source });
    return result;
  }

  private parse(input: unknown): Promise<ManagerConfig> {
    const options = { transports: this.factories, strategies: balancerNames() };
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
      this.startupConcurrency = parsed.startupConcurrency;
      this.readinessTracker.lock(
        parsed.plugins.map((p) => p.name),
        parsed.readiness,
      );
    }
    this.groupConfigs = { ...this.groupConfigs, ...parsed.groups };
    for (const [name, balancer] of balancers) this.addGroup(name, balancer);
  }

  private addGroup(name: string, balancer: Balancer): void {
    const members = [...this.slots.values()].filter((slot) => slot.config.group === name);
    const group = new GroupRoute<PluginSlot>(name, members as PluginSlot[], balancer);
    this.groups.set(name, group);
    this.routes.set(name, group);
  }

  /** The running configuration, as a reload compares it: plugins registered in code left out. */
  private currentConfig(): ManagerConfig {
    return {
      defaults: this.defaults,
      groups: this.groupConfigs,
      readiness: this.readinessTracker.config,
      retryBudget: this.retryBudget,
      startupConcurrency: this.startupConcurrency,
      plugins: [...this.slots.values()]
        .filter((slot) => slot.config.transport !== IN_PROCESS)
        .map((slot) => slot.config),
    };
  }

  /** A reloaded config must leave the names of plugins registered in code alone. */
  private reloadProblems(next: ManagerConfig): ConfigIssue[] {
    const problems: ConfigIssue[] = [];
    const inCode = (name: string): boolean => this.slots.get(name)?.config.transport === IN_PROCESS;
    next.plugins.forEach((plugin, index) => {
      if (inCode(plugin.name)) {
        problems.push({
          path: `plugins[${index}].name`,
          message: `'${plugin.name}' is a plugin registered in code; a config cannot replace it`,
          code: ErrorCode.DuplicatePluginName,
        });
      }
      if (plugin.group !== undefined && this.slots.has(plugin.group)) {
        problems.push({
          path: `plugins[${index}].group`,
          message: `'${plugin.group}' is already a plugin name; plugins and groups share one namespace`,
          code: ErrorCode.DuplicatePluginName,
        });
      }
    });
    // Strategy options of new or changed groups are checked before anything changes.
    for (const [name, group] of Object.entries(next.groups)) {
      try {
        createBalancer(group.strategy, group.options);
      } catch (error) {
        if (!isConfigError(error)) throw error;
        for (const issue of error.issues) {
          problems.push({ ...issue, path: `groups.${name}.${issue.path}` });
        }
      }
    }
    return problems;
  }

  /** Plugin and group names must not clash with what is loaded already. */
  private namespaceProblems(parsed: ManagerConfig): ConfigIssue[] {
    const problems: ConfigIssue[] = [];
    parsed.plugins.forEach((plugin, index) => {
      if (this.routes.has(plugin.name)) {
        problems.push({
          path: `plugins[${index}].name`,
          message: `a plugin or group named '${plugin.name}' is already loaded (use reload() to change it)`,
          code: ErrorCode.DuplicatePluginName,
        });
      }
      if (plugin.group !== undefined && this.slots.has(plugin.group)) {
        problems.push({
          path: `plugins[${index}].group`,
          message: `'${plugin.group}' is already a plugin name; plugins and groups share one namespace`,
          code: ErrorCode.DuplicatePluginName,
        });
      }
    });
    for (const name of Object.keys(parsed.groups)) {
      if (this.routes.has(name)) {
        problems.push({
          path: `groups.${name}`,
          message: `a plugin or group named '${name}' is already loaded (use reload() to change it)`,
          code: ErrorCode.DuplicatePluginName,
        });
      }
    }
    return problems;
  }

  /** A balancer for each group this config introduces; bad strategy options become problems. */
  private createBalancers(parsed: ManagerConfig, problems: ConfigIssue[]): Map<string, Balancer> {
    const balancers = new Map<string, Balancer>();
    const introduced = new Set([
      ...Object.keys(parsed.groups),
      ...parsed.plugins.flatMap((p) => (p.group === undefined ? [] : [p.group])),
    ]);
    for (const name of introduced) {
      if (this.routes.has(name)) continue; // an existing group: the plugin joins it
      const group = parsed.groups[name];
      try {
        balancers.set(name, createBalancer(group?.strategy, group?.options));
      } catch (error) {
        if (!isConfigError(error)) throw error;
        for (const issue of error.issues) {
          problems.push({ ...issue, path: `groups.${name}.${issue.path}` });
        }
      }
    }
    return balancers;
  }

  /** Creates every plugin of a config, or none: a factory that throws closes the others. */
  private createPlugins(
    configs: PluginConfig[],
  ): Array<{ plugin: Plugin<Req, Resp>; config: PluginConfig }> {
    const created: Array<{ plugin: Plugin<Req, Resp>; config: PluginConfig }> = [];
    try {
      for (const config of configs) {
        const factory = this.factories.get(config.transport)!;
        const plugin = factory.create(config, { codec: this.codec, logger: this.logger });
        created.push({ plugin: plugin as Plugin<Req, Resp>, config });
      }
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
    if (this.routes.has(plugin.name)) {
      throw new ConfigError([
        {
          path: 'name',
          message: `a plugin or group named '${plugin.name}' already exists`,
          code: ErrorCode.DuplicatePluginName,
        },
      ]);
    }
    const config = parsePluginConfig(
      { ...options, name: plugin.name, transport: IN_PROCESS },
      this.defaults,
      { transports: this.factories },
    );
    if (config.group !== undefined && !this.groups.has(config.group)) {
      if (this.routes.has(config.group)) {
        throw new ConfigError([
          {
            path: 'group',
            message: `'${config.group}' is already a plugin name; plugins and groups share one namespace`,
            code: ErrorCode.DuplicatePluginName,
          },
        ]);
      }
      const group = new GroupRoute<PluginSlot>(config.group, [], createBalancer());
      this.groups.set(config.group, group);
      this.routes.set(config.group, group);
    }
    const slot = this.addSlot(plugin, config);
    const [result] = await this.startAll([slot]);
    return result!;
  }

  /**
   * Removes a plugin: new calls no longer reach it, calls in flight on it may finish within
   * `timeoutMs` (default 10 s) and are aborted after, then the plugin is closed.
   */
  async unregister(name: string, options: ShutdownOptions = {}): Promise<boolean> {
    const slot = this.slots.get(name);
    if (slot === undefined) return false;
    this.unroute(slot);
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
    const slot = this.slots.get(name);
    if (slot === undefined) {
      throw new PluginError(ErrorCode.PluginNotFound, `No plugin named '${name}'`, {
        plugin: name,
      });
    }
    if (slot.config.enabled === enabled) return;
    slot.config = { ...slot.config, enabled };
    this.refreshReadiness();
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
    const route = this.routes.get(target);
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
    return [...this.slots.values()].map((slot) => slot.snapshot());
  }

  /** The last known health of every plugin. Never blocks, never runs a check. */
  health(): Record<string, HealthStatus> {
    const out: Record<string, HealthStatus> = {};
    for (const [name, slot] of this.slots) out[name] = { ...slot.health };
    return out;
  }

  /** Counters and latency summaries, for the manager as a whole and per plugin. */
  metrics(options?: MetricsOptions): MetricsSnapshot {
    const bounds = options?.latencyBucketsMs;
    const plugins: Record<string, CounterSnapshot> = {};
    for (const [name, slot] of this.slots) plugins[name] = slot.counters.snapshot(bounds);
    return { global: this.host.counters.snapshot(bounds), plugins };
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
    if (!this.loaded && this.readinessTracker.initialSet === undefined && this.slots.size > 0) {
      this.readinessTracker.lock(this.slots.keys());
      this.refreshReadiness();
    }
    return this.readinessTracker.report;
  }

  /**
   * Resolves once {@link readiness} says ready. Rejects with `PLUGIN_1211` after `timeoutMs`
   * (with the reason it is not ready), or when `signal` aborts or the manager shuts down.
   */
  async whenReady(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.readiness().ready) return;
    const { timeoutMs, signal } = options;
    let resolveReady!: () => void;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    this.readyWaiters.add(resolveReady);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const failure = new Promise<never>((_, reject) => {
      const fail = (why: string): void =>
        reject(
          new PluginError(
            ErrorCode.PluginNotReady,
            `Not ready ${why}: ${this.readiness().reason}`,
            {
              retryable: true,
            },
          ),
        );
      if (timeoutMs !== undefined)
        timer = setTimeout(() => fail(`after ${timeoutMs} ms`), timeoutMs);
      onAbort = () => fail('(aborted)');
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
    try {
      await Promise.race([ready, failure]);
    } finally {
      this.readyWaiters.delete(resolveReady);
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
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
    for (const stop of [...this.watchers]) stop();
    for (const slot of this.slots.values()) slot.lifecycle?.stop();
    let aborted = 0;
    if (this.inflight.size > 0) {
      await settlesWithin(new Promise<void>((resolve) => (this.drained = resolve)), timeoutMs);
      for (const call of [...this.inflight]) {
        aborted++;
        call.abort(this.closedError(undefined));
      }
      this.drained = undefined;
    }
    const slots = [...this.slots.values()];
    this.routes.clear();
    this.groups.clear();
    this.slots.clear();
    await Promise.all(slots.map((slot) => this.closeSlot(slot)));
    this.bus.emit('shutdown', { abortedCalls: aborted });
    this.bus.clear();
  }

  private addSlot(plugin: Plugin<Req, Resp>, config: PluginConfig): PluginSlot<Req, Resp> {
    const slot = this.newSlot(plugin, config);
    this.routeSlot(slot);
    return slot;
  }

  private newSlot(plugin: Plugin<Req, Resp>, config: PluginConfig): PluginSlot<Req, Resp> {
    const slot = new PluginSlot<Req, Resp>(
      plugin,
      config,
      this.retryBudget,
      this.onBreakerTransition,
    );
    slot.lifecycle = new PluginLifecycle(slot as PluginSlot, this.lifecycleHooks);
    return slot;
  }

  private routeSlot(slot: PluginSlot<Req, Resp>): void {
    const { config } = slot;
    this.slots.set(config.name, slot);
    this.routes.set(config.name, slot as PluginSlot);
    if (config.group !== undefined) this.refreshGroup(config.group);
    this.bus.emit('plugin-added', {
      plugin: config.name,
      transport: config.transport,
      group: config.group,
    });
  }

  /** What a reload drives: the slots and their lifecycle. */
  private readonly reloadRuntime: ReloadRuntime = {
    slot: (name) => this.slots.get(name) as PluginSlot | undefined,
    create: (config) => {
      const plugin = this.factories
        .get(config.transport)!
        .create(config, { codec: this.codec, logger: this.logger });
      return this.newSlot(plugin as Plugin<Req, Resp>, config) as PluginSlot;
    },
    add: (slot) => this.routeSlot(slot as PluginSlot<Req, Resp>),
    swap: (old, next) => {
      this.slots.set(next.name, next as PluginSlot<Req, Resp>);
      this.routes.set(next.name, next);
      if (old.config.group !== undefined) this.refreshGroup(old.config.group);
      if (next.config.group !== undefined && next.config.group !== old.config.group) {
        this.refreshGroup(next.config.group);
      }
      this.refreshReadiness();
    },
    remove: (slot) => this.unroute(slot as PluginSlot<Req, Resp>),
    start: (slot) => this.startSlot(slot as PluginSlot<Req, Resp>),
    drain: (slot, timeoutMs, replaced) =>
      this.drainSlot(slot as PluginSlot<Req, Resp>, timeoutMs, replaced),
    retire: (slot) => this.setState(slot as PluginSlot<Req, Resp>, 'draining'),
    close: (slot) => this.closeSlot(slot as PluginSlot<Req, Resp>),
    configure: async (slot, config) => {
      const before = slot.config;
      slot.configure(config);
      if (before.group !== config.group) {
        if (before.group !== undefined) this.refreshGroup(before.group);
        if (config.group !== undefined) this.refreshGroup(config.group);
      } else if (config.group !== undefined) {
        this.groups.get(config.group)?.refresh(); // weight or priority may have changed
      }
      this.refreshReadiness();
      if (config.enabled && slot.state === 'pending')
        await this.startSlot(slot as PluginSlot<Req, Resp>);
    },
    settings: (next, diff) => {
      this.defaults = next.defaults;
      this.startupConcurrency = next.startupConcurrency;
      this.retryBudget = next.retryBudget;
      for (const slot of this.slots.values()) slot.budget.configure(next.retryBudget);
      if (diff.readinessChanged) this.readinessTracker.configure(next.readiness);
      for (const name of diff.groups.added) {
        if (this.groups.has(name)) continue;
        const group = next.groups[name];
        this.addGroup(name, createBalancer(group?.strategy, group?.options));
      }
      for (const { name } of diff.groups.updated) {
        const group = next.groups[name];
        this.addGroup(name, createBalancer(group?.strategy, group?.options));
      }
    },
    step: (step) => this.bus.emit('reload-step', step),
  };

  /** Stops routing to `slot`: its name, its group, the initial set. */
  private unroute(slot: PluginSlot<Req, Resp>): void {
    const name = slot.name;
    if (this.slots.get(name) !== slot) return;
    this.routes.delete(name);
    this.slots.delete(name);
    if (slot.config.group !== undefined) this.refreshGroup(slot.config.group);
    this.readinessTracker.forget(name);
  }

  /** Rebuilds a group's member list from the slots that name it (config order). */
  private refreshGroup(name: string): void {
    const members = [...this.slots.values()].filter((slot) => slot.config.group === name);
    this.groups.get(name)?.setMembers(members as PluginSlot[]);
  }

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
  private async startAll(slots: PluginSlot<Req, Resp>[]): Promise<StartResult[]> {
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

  private async startSlot(slot: PluginSlot<Req, Resp>): Promise<void> {
    // A disabled plugin is not started (readiness counts it as done); calls get PLUGIN_1202.
    if (slot.config.enabled) await slot.lifecycle!.start();
  }

  private refreshReadiness(): void {
    const inputs = [...this.slots.values()].map((slot) => ({
      name: slot.name,
      state: slot.state,
      health: slot.health,
      startAttempts: slot.startAttempts,
      maxAttempts: slot.config.startup.maxAttempts,
      lastError: slot.lastError,
      enabled: slot.config.enabled,
      healthChecks: slot.config.healthCheck.enabled,
    }));
    this.readinessTracker.update(inputs);
  }

  private setState(slot: PluginSlot<Req, Resp>, to: PluginState, error?: string): void {
    if (slot.state === to) return;
    const from = slot.moveTo(to);
    this.bus.emit('plugin-state', { plugin: slot.name, from, to, error });
    this.refreshReadiness();
  }

  /** Waits until no call runs on `slot`, or `timeoutMs`; then aborts the calls still on it. */
  /**
   * Waits until no attempt runs on `slot`, or `timeoutMs`. Then the attempts still on it are
   * ended: `replaced` (a reload) interrupts them with a retryable error so that their calls go
   * on with the new instance; otherwise (removal) their calls fail.
   */
  private async drainSlot(
    slot: PluginSlot<Req, Resp>,
    timeoutMs: number,
    replaced = false,
  ): Promise<void> {
    if (timeoutMs > 0 && (await settlesWithin(slot.idle(), timeoutMs))) return;
    if (slot.counters.inFlight === 0) return;
    const error = replaced
      ? new PluginError(ErrorCode.PluginNotReady, `Plugin '${slot.name}' is being replaced`, {
          plugin: slot.name,
          retryable: true,
        })
      : new PluginError(ErrorCode.PluginNotReady, `Plugin '${slot.name}' was removed`, {
          plugin: slot.name,
        });
    for (const call of [...this.inflight]) {
      if (replaced) call.interrupt(slot as PluginSlot, error);
      else if (call.currentPlugin === slot) call.abort(error);
    }
  }

  private async closeSlot(slot: PluginSlot<Req, Resp>): Promise<void> {
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
    this.setState(slot, 'closed');
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
