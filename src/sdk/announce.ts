import type { Redis } from 'ioredis';
import { DEFAULT_CLUSTER } from '../config/cluster-defaults.js';
import type { ClusterConfig } from '../config/cluster-schema.js';
import { createRedisClient, loadRedis } from '../cluster/redis.js';
import {
  ANNOUNCE_SCRIPT,
  WITHDRAW_SCRIPT,
  memberKeys,
  type MemberAnnouncement,
} from '../cluster/registry.js';
import { ErrorCode, PluginError, redactSecrets } from '../errors.js';
import { silentLogger } from '../observe/logger.js';
import type { Logger } from '../types.js';
import type { AnnounceOptions, ServedPlugin } from './types.js';

export type { AnnounceOptions } from './types.js';

const GROUP = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

/**
 * Starts announcing `served` when `options.announce` is set; the returned plugin's `close()`
 * withdraws the entry first (hosts stop routing to it), then closes the server.
 */
export async function announced(
  served: ServedPlugin,
  options: { announce?: AnnounceOptions | undefined; logger?: Logger | undefined },
  transport: string,
): Promise<ServedPlugin> {
  const announce = options.announce;
  if (announce === undefined) return served;
  let announcer: Announcer;
  try {
    announcer = await Announcer.start(announce, served.endpoint, transport, options.logger);
  } catch (error) {
    await served.close({ timeoutMs: 0 });
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    endpoint: served.endpoint,
    close(closeOptions) {
      closing ??= announcer.stop().then(() => served.close(closeOptions));
      return closing;
    },
  };
}

interface AnnouncingRedis extends Redis {
  plugwireAnnounce(
    expiries: string,
    data: string,
    id: string,
    ttl: number,
    json: string,
  ): Promise<number>;
  plugwireWithdraw(expiries: string, data: string, id: string): Promise<number>;
}

/** Keeps one instance's registry entry alive. */
class Announcer {
  private readonly timer: NodeJS.Timeout;
  private failing = false;

  private constructor(
    private readonly redis: AnnouncingRedis,
    private readonly keys: [string, string],
    private readonly member: MemberAnnouncement,
    private readonly ttl: number,
    interval: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.beat(), interval);
    this.timer.unref();
  }

  static async start(
    options: AnnounceOptions,
    endpoint: string,
    transport: string,
    logger: Logger = silentLogger,
  ): Promise<Announcer> {
    const interval = options.interval ?? 1_000;
    const ttl = options.ttl ?? 5_000;
    const problems: string[] = [];
    if (!GROUP.test(options.group))
      problems.push(`group '${options.group}' is not a valid group name`);
    if (!(interval > 0) || !(ttl > interval))
      problems.push('ttl must be longer than interval (> 0)');
    if (options.weight !== undefined && !(options.weight > 0)) problems.push('weight must be > 0');
    if ((options.redis.url === undefined) === (options.redis.options === undefined)) {
      problems.push('redis needs either url or options');
    }
    if (problems.length > 0) {
      throw new PluginError(ErrorCode.InvalidConfig, `announce: ${problems.join('; ')}`);
    }
    const config: ClusterConfig = {
      ...DEFAULT_CLUSTER,
      reconnect: { ...DEFAULT_CLUSTER.reconnect },
      redis: options.redis,
      namespace: options.namespace ?? DEFAULT_CLUSTER.namespace,
      members: {},
    };
    const Ctor = await loadRedis();
    const client = createRedisClient(Ctor, config, () => undefined) as AnnouncingRedis;
    client.defineCommand('plugwireAnnounce', { numberOfKeys: 2, lua: ANNOUNCE_SCRIPT });
    client.defineCommand('plugwireWithdraw', { numberOfKeys: 2, lua: WITHDRAW_SCRIPT });
    const reachable = options.endpoint ?? endpoint;
    const member: MemberAnnouncement = {
      id: options.id ?? reachable,
      transport,
      endpoint: reachable,
      weight: options.weight ?? 1,
      labels: { ...options.labels },
    };
    const announcer = new Announcer(
      client,
      memberKeys(config.namespace, options.group),
      member,
      ttl,
      interval,
      logger,
    );
    // Announced before serve*() resolves when Redis is there; otherwise the heartbeat keeps trying.
    await client.connect().catch(() => undefined);
    await announcer.beat();
    return announcer;
  }

  async beat(): Promise<void> {
    try {
      await this.redis.plugwireAnnounce(
        ...this.keys,
        this.member.id,
        this.ttl,
        JSON.stringify(this.member),
      );
      if (this.failing) this.logger.info({ id: this.member.id }, 'announce: registered again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.warn(
          { id: this.member.id, err: redactSecrets(String(error)) },
          'announce: heartbeat failed; retrying',
        );
      }
      this.failing = true;
    }
  }

  /** Withdraws the entry (best effort: else it expires after `ttl`) and disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.plugwireWithdraw(...this.keys, this.member.id).catch(() => undefined);
    this.redis.disconnect();
  }
}
