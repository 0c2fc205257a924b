import { parsePluginConfig } from '../config/index.js';
import type { RegistryOptions } from '../config/parse.js';
import type { ManagerConfig } from '../config/types.js';
import type { TypedEvents } from '../events.js';
import { asError } from '../internal/errorMessage.js';
import type { Logger } from '../types.js';
import { ClusterNode } from './ClusterNode.js';
import type { ViewGroup } from './LoadView.js';
import type { ClusterStatus } from './status.js';

/** What the manager's cluster wiring needs from the manager. */
export interface ClusterJoinHost {
  readonly logger: Logger;
  readonly events: TypedEvents;
  /** A `cluster.members` group gained or lost a member: apply the running config again. */
  membersChanged(): void;
  /** How announced members are validated (the manager's registries). */
  parseOptions(): RegistryOptions;
  /** The groups whose load the shared view publishes and combines. */
  groups(): Iterable<ViewGroup>;
  /** Another replica hinted that `plugin` failed: probe it sooner (it decides for itself). */
  probe(plugin: string): void;
}

/**
 * The manager's side of cluster mode (docs/cluster.md): joins the cluster the first time a
 * config has a `cluster` section, and adds the members announced for `cluster.members` groups to
 * the configs the manager applies.
 */
export class ClusterJoin {
  /** Set by the first config with a `cluster` section. */
  node: ClusterNode | undefined;

  constructor(private readonly host: ClusterJoinHost) {}

  /**
   * Joins the cluster the first time a config has a `cluster` section (later changes to the
   * section need a restart: logged); returns `config` with the members of `cluster.members`
   * groups known now added. Throws when ioredis is not installed.
   */
  async withMembers(config: ManagerConfig): Promise<ManagerConfig> {
    if (config.cluster === undefined) return config;
    const { logger, events } = this.host;
    if (this.node === undefined) {
      this.node = await ClusterNode.start(config.cluster, {
        logger,
        events,
        membersChanged: () => this.host.membersChanged(),
        groups: () => this.host.groups(),
        probe: (plugin) => this.host.probe(plugin),
      });
    } else if (JSON.stringify(config.cluster) !== JSON.stringify(this.node.config)) {
      logger.warn({}, 'plugwire: cluster settings changed; they apply after a restart');
    }
    const members = this.node.membership?.plugins() ?? [];
    if (members.length === 0) return config;
    const plugins = [...config.plugins];
    const options = this.host.parseOptions();
    for (const member of members) {
      try {
        plugins.push(parsePluginConfig(member, config.defaults, options));
      } catch (error) {
        // One instance announcing nonsense must not stop the others (nor the host's config).
        const err = asError(error);
        logger.warn({ member: member.name, err: err.message }, 'plugwire: member refused');
        events.emit('error', { error: err, context: `cluster member '${String(member.name)}'` });
      }
    }
    return { ...config, plugins };
  }

  status(): ClusterStatus | undefined {
    return this.node?.status();
  }

  async close(): Promise<void> {
    await this.node?.close();
  }
}
