import type { BalancerRegistry } from '../balance/registry.js';
import type { Balancer } from '../balance/types.js';
import { ClusterJoin } from '../cluster/join.js';
import { loadConfigFile, parseConfig, parsePluginConfig } from '../config/index.js';
import type { RegistryOptions } from '../config/parse.js';
import { INITIAL_SETTINGS, runningConfig, type RunningSettings } from '../config/running.js';
import type { ManagerConfig, PluginConfig } from '../config/types.js';
import { Discovery } from '../discovery/Discovery.js';
import { ConfigError, ErrorCode, PluginError, redactSecrets } from '../errors.js';
import type { TypedEvents } from '../events.js';
import type { ReadinessTracker } from '../health/readiness.js';
import { startAll, type StartResult } from '../health/startPool.js';
import { asError } from '../internal/errorMessage.js';
import type { LevelFilter } from '../observe/logger.js';
import type { MetricsEndpoint } from '../observe/metricsEndpoint.js';
import type { RegisterOptions } from '../options.js';
import type { PluginSlot } from '../pipeline/PluginSlot.js';
import type { SlotRegistry } from '../pipeline/SlotRegistry.js';
import type { Targets } from '../pipeline/Targets.js';
import { builtinFactories } from '../transport/builtin.js';
import type { Codec, Plugin, PluginFactory } from '../types.js';
import { applyReload, type ReloadOptions, type ReloadResult } from './apply.js';
import { diffModels, type ConfigDiff } from './diff.js';

/** The transport of plugins registered in code (`manager.register()`). */
export const IN_PROCESS = 'in-process';
/** Plugins registered in code: no config file describes them, so reloads leave them alone. */
export const isInCode = (slot: PluginSlot): boolean => slot.config.transport === IN_PROCESS;
/** Stands in the transport registry for plugins in code: they are never created from config. */
export const inProcessFactory: PluginFactory = {
  transports: [IN_PROCESS],
  create() {
    throw new Error('in-process plugins are passed to register(), not created from config');
  },
};
/** Names a config may use on a manager with the built-in transports, for the error's hint. */
const BUILTIN_TRANSPORT_NAMES: ReadonlySet<string> = new Set(
  builtinFactories().flatMap((factory) => factory.transports),
);

/** What the configurator works with: the manager's parts. */
export interface ConfiguratorParts {
  readonly logger: LevelFilter;
  readonly events: TypedEvents;
  readonly codec: Codec;
  readonly readiness: ReadinessTracker;
  readonly targets: Targets;
  readonly slots: SlotRegistry;
  /** The manager's transports by name (the in-process one included). */
  readonly factories: ReadonlyMap<string, PluginFactory>;
  readonly strategies: BalancerRegistry;
  readonly metricsEndpoint: MetricsEndpoint;
  closing(): boolean;
  assertOpen(): void;
}

/**
 * Applies configurations to the running manager: the first `load()` and the ones after it,
 * reloads (queued, one at a time), and the re-applications discovery and cluster membership ask
 * for. It holds the running configuration as one immutable model ({@link RunningSettings}
 * around the slots' plugin configs), validates every input against the manager's registries,
 * and creates plugins through their transports' factories.
 */
export class Configurator {
  /** The manager-wide settings in force: one immutable value, replaced whole. */
  settings: RunningSettings = INITIAL_SETTINGS;
  /** Whether a first configuration has been applied (it locked the initial set). */
  loaded = false;
  readonly discovery: Discovery;
  readonly cluster: ClusterJoin;
  /** The running config as given (before discovery added its plugins): watch mode merges into it. */
  private given: ManagerConfig | undefined;
  private reloads: Promise<void> = Promise.resolve();
  private readonly logger: LevelFilter;
  private readonly events: TypedEvents;
  private readonly codec: Codec;
  private readonly readiness: ReadinessTracker;
  private readonly targets: Targets;
  private readonly slots: SlotRegistry;
  private readonly factories: ReadonlyMap<string, PluginFactory>;
  private readonly strategies: BalancerRegistry;
  private readonly metricsEndpoint: MetricsEndpoint;

  constructor(private readonly host: ConfiguratorParts) {
    ({
      logger: this.logger,
      events: this.events,
      codec: this.codec,
      readiness: this.readiness,
      targets: this.targets,
      slots: this.slots,
      factories: this.factories,
      strategies: this.strategies,
      metricsEndpoint: this.metricsEndpoint,
    } = host);
    this.cluster = new ClusterJoin({
      logger: this.logger,
      events: this.events,
      membersChanged: () => void this.reapply('cluster'),
      parseOptions: () => this.registryOptions(),
      groups: () => this.targets.groupRoutes(),
      probe: (plugin) => this.targets.slot(plugin)?.lifecycle?.probe(),
    });
    this.discovery = new Discovery({
      events: this.events,
      logger: this.logger,
      parseOptions: () => this.registryOptions(),
      reservedNames: () => [...this.slots.plugins()].filter(isInCode).map((slot) => slot.name),
      rescan: () => this.reapply('discovery'),
    });
  }

  /** `manager.reload()`: see there. */
  reload(config: unknown, options: ReloadOptions = {}): Promise<ReloadResult> {
    const source = typeof config === 'string' ? config : undefined;
    return this.enqueueReload(source, () => this.parse(config), options);
  }

  /** Starts slots with bounded concurrency; each gets `startup.maxAttempts` attempts with backoff. */
  start(slots: PluginSlot[]): Promise<StartResult[]> {
    return startAll(slots, this.settings.startupConcurrency, (slot) => this.slots.start(slot));
  }

  /** `manager.load()`: see there. Resolves with how each plugin's startup ended. */
  async load(config: unknown): Promise<StartResult[]> {
    this.host.assertOpen();
    const source = typeof config === 'string' ? config : undefined;
    const given = await this.parse(config);
    const { next: parsed, balancers } = await this.prepare(given, 'load', source);
    // The first load sets the log level and metrics server (a reload changes them later); the
    // server listens before any plugin starts, so that it counts every startup attempt.
    if (!this.loaded) await this.serve(parsed, source);
    this.host.assertOpen();
    const plugins = this.createPlugins(parsed.plugins);
    this.given = given;
    if (!this.loaded) {
      // The first configuration sets the defaults, budgets and the locked initial set.
      this.loaded = true;
      const { defaults, retryBudget, startupConcurrency, readiness } = parsed;
      this.targets.policyBase = { defaults, retryBudget };
      this.settings = { ...this.settings, defaults, retryBudget, startupConcurrency, readiness };
      this.readiness.lock(
        parsed.plugins.map((p) => p.name),
        parsed.readiness,
      );
    }
    const groups = { ...this.settings.groups, ...parsed.groups };
    this.settings = { ...this.settings, groups, discovery: parsed.discovery };
    for (const [name, balancer] of balancers) {
      this.targets.setGroup(name, balancer, parsed.groups[name]);
    }
    const slots = this.slots.add(
      plugins.map(({ plugin, config }) => this.slots.newSlot(plugin, config)),
    );
    return this.start(slots);
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
   * Discovery saw a change on disk, or a `cluster.members` group gained or lost a member: the
   * running config (as given) is applied again with what discovery and the registry hold now,
   * through the same reload as any other (rolling for a changed binary).
   */
  private async reapply(source: 'discovery' | 'cluster'): Promise<void> {
    if (this.given === undefined || this.host.closing()) return;
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
    let prepared: { next: ManagerConfig; balancers: Map<string, Balancer> };
    let diff: ConfigDiff;
    try {
      this.host.assertOpen();
      given = await read();
      prepared = await this.prepare(given, 'reload', source, settle);
      diff = diffModels(this.currentConfig(), prepared.next);
      await this.serve(prepared.next, source);
    } catch (error) {
      const err = asError(error);
      this.logger.warn({ source, err: redactSecrets(err.message) }, 'plugwire: reload refused');
      this.events.emit('reload-failed', { error: err, source });
      throw error;
    }
    const { next, balancers } = prepared;
    this.given = given;
    this.settings = { ...this.settings, discovery: next.discovery };
    this.events.emit('reload-start', { diff, source });
    if (!this.loaded) {
      // A reload before any load(): its plugins are the initial set; settings() does the rest.
      this.loaded = true;
      this.readiness.lock(
        next.plugins.map((p) => p.name),
        next.readiness,
      );
    }
    const changedGroups = [...diff.groups.added, ...diff.groups.updated.map((g) => g.name)];
    for (const name of changedGroups) {
      this.targets.setGroup(name, balancers.get(name)!, next.groups[name]);
    }
    const runtime = this.slots.reloadRuntime((settings, changes) => {
      const { defaults, startupConcurrency, retryBudget, readiness } = settings;
      this.settings = { ...this.settings, defaults, startupConcurrency, retryBudget, readiness };
      if (changes.readinessChanged) this.readiness.configure(settings.readiness);
    });
    const result = await applyReload(runtime, next, diff, options);
    this.targets.dropEmptyGroups(diff.groups.removed);
    this.settings = { ...this.settings, groups: { ...next.groups } };
    this.logger.info(
      { source, added: result.added, removed: result.removed, recreated: result.recreated },
      'plugwire: reloaded',
    );
    this.events.emit('reload', { result, source });
    return result;
  }

  /**
   * Completes a validated config for `load()` or a reload: discovered plugins and cluster
   * members added, the transports they use loaded, names checked against each other and the
   * plugins in code, and a balancer made for each group that needs one.
   */
  private async prepare(
    given: ManagerConfig,
    mode: 'load' | 'reload',
    source: string | undefined,
    settle = false,
  ): Promise<{ next: ManagerConfig; balancers: Map<string, Balancer> }> {
    const next = await this.cluster.withMembers(await this.discovery.merge(given, settle));
    // What the factories of these plugins' transports need (see PluginFactory.prepare).
    const factories = new Set(next.plugins.map((config) => this.factories.get(config.transport)));
    await Promise.all([...factories].map((factory) => factory?.prepare?.()));
    if (mode === 'load') this.host.assertOpen();
    const problems = this.targets.clashes(next, mode, isInCode);
    const balancers = this.targets.balancers(next, mode === 'reload', problems);
    if (problems.length > 0) throw new ConfigError(problems, source);
    return { next, balancers };
  }

  /** Applies `logLevel` and brings the metrics server to `metricsPort`/`metricsHost`. */
  private async serve(config: ManagerConfig, source: string | undefined): Promise<void> {
    const { logLevel, metricsPort, metricsHost } = config;
    await this.metricsEndpoint.configure({ port: metricsPort, host: metricsHost }, source);
    this.settings = { ...this.settings, logLevel, metricsPort, metricsHost };
    this.logger.setLevel(logLevel);
  }

  private parse(input: unknown): Promise<ManagerConfig> {
    const options = this.registryOptions();
    return typeof input === 'string'
      ? loadConfigFile(input, options)
      : Promise.resolve().then(() => parseConfig(input, options));
  }

  /**
   * What configs read through this manager may name: exactly its registered transports and
   * balancing strategies. With builtinTransports: false, an `http` plugin (configured,
   * discovered or announced) is a config problem (PLUGIN_1008), not a failure to create it.
   */
  private registryOptions(): RegistryOptions {
    const transports = new Map(this.factories);
    transports.delete(IN_PROCESS);
    return {
      transports,
      strategies: this.strategies.names(),
      transportHint: (name) =>
        BUILTIN_TRANSPORT_NAMES.has(name)
          ? `the manager was created with builtinTransports: false: register one with manager.registerFactory("${name}", factory)`
          : undefined,
    };
  }

  /**
   * The running configuration, as a reload compares it: plugins registered in code left out.
   * With `plugins`, the same settings around those plugins instead (no walk over every plugin).
   */
  private currentConfig(plugins?: PluginConfig[]): ManagerConfig {
    return runningConfig(
      this.settings,
      plugins ?? [...this.slots.plugins()].filter((slot) => !isInCode(slot)).map((s) => s.config),
    );
  }

  /** Creates every plugin of a config, or none: a factory that throws closes the others. */
  private createPlugins(configs: PluginConfig[]): Array<{ plugin: Plugin; config: PluginConfig }> {
    const created: Array<{ plugin: Plugin; config: PluginConfig }> = [];
    try {
      for (const config of configs) created.push({ plugin: this.instantiate(config), config });
    } catch (error) {
      for (const { plugin } of created) void plugin.close().catch(() => undefined);
      throw error;
    }
    return created;
  }

  /**
   * The config of a plugin registered in code, validated like a config's plugin (paths
   * relative to it): policy sections not given come from the loaded `defaults`.
   */
  registration(name: string, options: RegisterOptions): PluginConfig {
    const parsed = parsePluginConfig(
      { ...options, name, transport: IN_PROCESS },
      this.settings.defaults,
      { transports: new Map([[IN_PROCESS, inProcessFactory]]) },
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
    if (config.rateLimit.enabled && config.rateLimit.scope === 'cluster' && !this.cluster.node) {
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
    return config;
  }

  /** The plugin for a validated config, made by its transport's factory. */
  instantiate(config: PluginConfig): Plugin {
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
    });
  }
}
