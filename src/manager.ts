import { BalancerRegistry } from './balance/registry.js';
import type { BalancerFactory } from './balance/types.js';
import type { ClusterStatus } from './cluster/status.js';
import { jsonCodec } from './codec.js';
import { DEFAULT_READINESS } from './config/defaults.js';
import { ErrorCode, PluginError } from './errors.js';
import { TypedEvents, type ManagerEvents, type ManagerListener } from './events.js';
import { ReadinessTracker, type ReadinessReport } from './health/readiness.js';
import { ReadyWaiters } from './health/ReadyWaiters.js';
import { asError } from './internal/errorMessage.js';
import { settlesWithin } from './internal/timeout.js';
import type { AdminAddress } from './observe/adminServer.js';
import { LevelFilter, silentLogger } from './observe/logger.js';
import { MetricsEndpoint } from './observe/metricsEndpoint.js';
import { outlierReporter } from './observe/outlierEvents.js';
import { guardTracer } from './observe/tracing.js';
import type { MetricsSnapshot } from './observe/metricsSnapshot.js';
import { Counters, type CounterSnapshot, type MetricsOptions } from './observe/stats.js';
import type {
  LoadResult,
  ManagerOptions,
  RegisterOptions,
  ShutdownOptions,
  StartResult,
} from './options.js';
import { Call, type CallHost } from './pipeline/Call.js';
import { Deadlines } from './pipeline/Deadlines.js';
import type { PluginSnapshot } from './pipeline/PluginSlot.js';
import { SlotRegistry } from './pipeline/SlotRegistry.js';
import { Targets } from './pipeline/Targets.js';
import type { ReloadOptions, ReloadResult } from './reload/apply.js';
import { Configurator, IN_PROCESS, inProcessFactory } from './reload/Configurator.js';
import { watchConfigFile } from './reload/watch.js';
import { builtinFactories } from './transport/builtin.js';
import type { ExecuteOptions, HealthStatus, Plugin, PluginFactory } from './types.js';

export type {
  LoadResult,
  ManagerOptions,
  MetricsSnapshot,
  RegisterOptions,
  ShutdownOptions,
  StartResult,
} from './options.js';

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
  // A facade (docs/architecture.md): the slots live in a slot registry, configurations are
  // applied by the configurator (which holds the running config), readiness is a tracker and
  // its waiters, and what plugins' supervisors report becomes events in an adapter.
  private readonly bus: TypedEvents;
  private readonly factories = new Map<string, PluginFactory>([[IN_PROCESS, inProcessFactory]]);
  private readonly strategies = new BalancerRegistry();
  private readonly targets: Targets;
  private readonly host: CallHost;
  private readonly readinessTracker: ReadinessTracker;
  private readonly waiters = new ReadyWaiters(() => this.readiness().reason);
  private readonly slots: SlotRegistry;
  private readonly config: Configurator;
  private readonly metricsEndpoint = new MetricsEndpoint(this);
  private readonly watchers = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(options: ManagerOptions = {}) {
    const logger = new LevelFilter(options.logger ?? silentLogger);
    this.bus = new TypedEvents(logger);
    this.targets = new Targets({
      strategies: this.strategies,
      onOutlier: outlierReporter(this.bus, logger, (plugin) =>
        this.config.cluster.node?.hint(plugin),
      ),
    });
    this.readinessTracker = new ReadinessTracker(DEFAULT_READINESS, (report) => {
      if (report.ready) {
        this.bus.emit('ready', { report });
        this.waiters.ready();
      } else {
        this.bus.emit('unready', { report });
      }
    });
    const deadlines = new Deadlines();
    this.host = {
      events: this.bus,
      counters: new Counters(),
      tracer:
        options.tracer &&
        guardTracer(options.tracer, (error, where) => {
          logger.warn({ where, err: String(error) }, 'plugwire: the tracer threw');
          this.bus.emit('error', { error: asError(error), context: `tracer: ${where}` });
        }),
      retryRule: options.retryRule,
      deadlines,
      onIdle: () => this.drained?.(),
      route: (target) => this.targets.route(target),
    };
    const closing = (): boolean => this.closing !== undefined;
    const assertOpen = (): void => this.assertOpen();
    this.slots = new SlotRegistry(this.targets, {
      events: this.bus,
      logger,
      readiness: this.readinessTracker,
      deadlines,
      instantiate: (config) => this.config.instantiate(config),
      slotSettings: () => ({
        retryBudget: this.config.settings.retryBudget,
        cluster: this.config.cluster.node,
      }),
      closing,
      assertOpen,
    });
    this.config = new Configurator({
      logger,
      events: this.bus,
      codec: options.codec ?? jsonCodec,
      readiness: this.readinessTracker,
      targets: this.targets,
      slots: this.slots,
      factories: this.factories,
      strategies: this.strategies,
      metricsEndpoint: this.metricsEndpoint,
      closing,
      assertOpen,
    });
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
   * Makes a load-balancing strategy available to this manager's groups
   * (`groups: { payments: { strategy: name, options: {…} } }`); the built-in strategies are
   * registered already. Registering a name again replaces its factory for groups created
   * afterwards. See docs/balancing.md.
   */
  registerBalancer(name: string, factory: BalancerFactory): void {
    this.strategies.register(name, factory);
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
    return { plugins: await this.config.load(config) };
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
    return this.config.reload(config, options);
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
   * This replica's view of the cluster (Redis state, live replicas, leases, decisions made
   * without Redis), or undefined when no `cluster` section is configured.
   */
  cluster(): ClusterStatus | undefined {
    return this.config.cluster.status();
  }

  /**
   * Adds a plugin built in code (an in-process plugin from {@link definePlugin}, or your own
   * {@link Plugin}) and starts it. Policy sections not given come from the loaded `defaults`.
   */
  async register(plugin: Plugin<Req, Resp>, options: RegisterOptions = {}): Promise<StartResult> {
    this.assertOpen();
    const config = this.config.registration(plugin.name, options);
    this.targets.ensureGroup(config.group);
    const slots = this.slots.add([this.slots.newSlot(plugin as Plugin, config)]);
    const [result] = await this.config.start(slots);
    return result!;
  }

  /**
   * Removes a plugin: new calls no longer reach it, calls in flight on it may finish within
   * `timeoutMs` (default 10 s) and are aborted after, then the plugin is closed.
   */
  async unregister(name: string, options: ShutdownOptions = {}): Promise<boolean> {
    const slot = this.targets.slot(name);
    if (slot === undefined) return false;
    await this.slots.unregister(slot, options.timeoutMs ?? 10_000);
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
    await this.slots.setEnabled(slot, enabled);
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
    return [...this.slots.plugins()].map((slot) => slot.snapshot());
  }

  /** The last known health of every plugin. Never blocks, never runs a check. */
  health(): Record<string, HealthStatus> {
    const out: Record<string, HealthStatus> = {};
    for (const slot of this.slots.plugins()) out[slot.name] = { ...slot.health };
    return out;
  }

  /** Counters and latency summaries, for the manager as a whole and per plugin. */
  metrics(options?: MetricsOptions): MetricsSnapshot {
    const bounds = options?.latencyBucketsMs;
    const plugins: Record<string, CounterSnapshot> = {};
    for (const slot of this.slots.plugins()) plugins[slot.name] = slot.counters.snapshot(bounds);
    const discovery = this.config.discovery.enabled
      ? { ...this.config.discovery.stats }
      : undefined;
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
    if (
      !this.config.loaded &&
      this.readinessTracker.initialSet === undefined &&
      this.targets.size > 0
    ) {
      this.readinessTracker.lock([...this.slots.plugins()].map((slot) => slot.name));
    }
    return this.readinessTracker.report;
  }

  /**
   * Resolves once {@link readiness} says ready. Rejects with `PLUGIN_1213` after `timeoutMs`
   * (with the reason it is not ready), or when `signal` aborts or the manager shuts down.
   */
  async whenReady(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.readiness().ready) return;
    if (this.closing !== undefined) throw this.closedError(undefined);
    await this.waiters.wait(options);
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
    this.waiters.shutdown();
    for (const stop of [...this.watchers]) stop();
    this.config.discovery.stop();
    this.slots.stopSupervisors();
    let aborted = 0;
    if (this.host.counters.inFlight > 0) {
      await settlesWithin(new Promise<void>((resolve) => (this.drained = resolve)), timeoutMs);
      for (const call of this.slots.callsInFlight()) {
        aborted++;
        call.abort(this.closedError(undefined));
      }
      this.drained = undefined;
    }
    await this.slots.closeAll();
    await this.config.cluster.close();
    // Last: the probes answer "shutting down" while the plugins drain.
    await this.metricsEndpoint.close();
    this.host.deadlines.dispose();
    this.bus.emit('shutdown', { abortedCalls: aborted });
    this.bus.clear();
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
