import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterConfig } from '../config/cluster-schema.js';
import { redactSecrets } from '../errors.js';
import type { TypedEvents } from '../events.js';
import type { RateLimiterSettings } from '../resilience/RateLimiter.js';
import type { Logger } from '../types.js';
import { ClusterLimiter } from './ClusterLimiter.js';
import { LoadView, type ViewGroup } from './LoadView.js';
import { Membership } from './Membership.js';
import { createRedisClient, loadRedis } from './redis.js';
import { HEARTBEAT_SCRIPT, LEASE_SCRIPT, LEAVE_SCRIPT } from './scripts.js';
import type { ClusterStatus, RedisState } from './status.js';
import { errorMessage } from '../internal/errorMessage.js';

export type { ClusterStatus, RedisState } from './status.js';

/** What a {@link ClusterNode} needs from the manager. */
export interface ClusterHooks {
  logger: Logger;
  events: TypedEvents;
  /** The members of a `cluster.members` group changed: apply them (a reload). */
  membersChanged(): void;
  /** The groups whose load the shared view publishes and combines. */
  groups(): Iterable<ViewGroup>;
  /** Another replica hinted that `plugin` failed: probe it sooner (it decides for itself). */
  probe(plugin: string): void;
}

interface ScriptedRedis extends Redis {
  plugwireLease(key: string, rate: number, burst: number, want: number): Promise<[number, number]>;
  plugwireHeartbeat(key: string, id: string, ttl: number): Promise<number>;
  plugwireLeave(key: string, id: string): Promise<number>;
}

/**
 * This replica's membership of the cluster: one Redis connection, a heartbeat that keeps it
 * counted among the live replicas, and the limiters of `rateLimit.scope: cluster`. Nothing here
 * is on a call's path: limiters lease tokens ahead, in the background.
 */
export class ClusterNode {
  state: RedisState = 'connecting';
  /** Bumped each time Redis becomes usable: leases granted before a gap are not trusted after. */
  epoch = 0;
  liveReplicas = 1;
  readonly replicaId: string;
  readonly stats = {
    redisDowns: 0,
    leaseRequests: 0,
    leaseFailures: 0,
    leasedTokens: 0,
    fallbackAdmitted: 0,
    fallbackRefused: 0,
    warmupAdmitted: 0,
    warmupRefused: 0,
  };
  /** Set when `cluster.members` lists groups. */
  readonly membership: Membership | undefined;
  /** The shared load view and hints. */
  readonly view: LoadView;
  private lastHeartbeat: number | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly replicasKey: string;

  private constructor(
    readonly config: ClusterConfig,
    private readonly redis: ScriptedRedis,
    private readonly hooks: ClusterHooks,
  ) {
    this.replicaId =
      config.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.replicasKey = `${config.namespace}:replicas`;
    redis.on('ready', () => this.up());
    redis.on('close', () => this.down('connection closed'));
    this.heartbeat = setInterval(() => void this.beat(), config.heartbeatInterval);
    this.heartbeat.unref();
    this.view = new LoadView(
      config.namespace,
      this.replicaId,
      config.viewInterval,
      config.viewTtl,
      redis,
      () => this.state === 'ready',
      hooks,
    );
    if (Object.keys(config.members).length > 0) {
      this.membership = new Membership(config, redis, {
        logger: hooks.logger,
        events: hooks.events,
        changed: hooks.membersChanged,
      });
    }
  }

  /**
   * Connects (waiting at most `connectTimeout`: without Redis the node starts `down` and keeps
   * reconnecting in the background) and sends a first heartbeat.
   *
   * @throws PluginError `PLUGIN_1000` when ioredis is not installed
   */
  static async start(config: ClusterConfig, hooks: ClusterHooks): Promise<ClusterNode> {
    const Ctor = await loadRedis();
    let node: ClusterNode | undefined;
    const client = createRedisClient(Ctor, config, (error) => node?.down(error.message));
    client.defineCommand('plugwireLease', { numberOfKeys: 1, lua: LEASE_SCRIPT });
    client.defineCommand('plugwireHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_SCRIPT });
    client.defineCommand('plugwireLeave', { numberOfKeys: 1, lua: LEAVE_SCRIPT });
    node = new ClusterNode(config, client as ScriptedRedis, hooks);
    let timer: NodeJS.Timeout | undefined;
    const connected = await Promise.race([
      client.connect().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(resolve, config.connectTimeout, false))),
    ]);
    clearTimeout(timer);
    if (connected) await Promise.all([node.beat(), node.membership?.refreshAll()]);
    else node.down('no connection within connectTimeout');
    return node;
  }

  /** A cluster-scope limiter for `plugin`: one bucket in Redis shared by every replica. */
  limiter(plugin: string, settings: RateLimiterSettings): ClusterLimiter {
    return new ClusterLimiter(this, `${this.config.namespace}:rl:${plugin}`, settings);
  }

  /**
   * This replica saw `plugin` fail (breaker opened, member ejected): the other replicas probe
   * it sooner (see {@link LoadView.hint}).
   */
  hint(plugin: string): void {
    this.view.hint(plugin);
  }

  /** @internal asks Redis for up to `want` tokens of `key`'s bucket: `[granted, waitMs]`. */
  async lease(key: string, rate: number, burst: number, want: number): Promise<[number, number]> {
    this.stats.leaseRequests++;
    try {
      const [granted, wait] = await this.redis.plugwireLease(key, rate, burst, want);
      this.stats.leasedTokens += granted;
      return [granted, wait];
    } catch (error) {
      this.stats.leaseFailures++;
      this.down(errorMessage(error));
      throw error;
    }
  }

  status(): ClusterStatus {
    const s = this.stats;
    return {
      replicaId: this.replicaId,
      namespace: this.config.namespace,
      redis: this.state,
      liveReplicas: this.liveReplicas,
      heartbeatAgeMs:
        this.lastHeartbeat === undefined ? undefined : performance.now() - this.lastHeartbeat,
      redisDowns: s.redisDowns,
      leases: { requests: s.leaseRequests, failures: s.leaseFailures, tokens: s.leasedTokens },
      fallback: { admitted: s.fallbackAdmitted, refused: s.fallbackRefused },
      warmup: { admitted: s.warmupAdmitted, refused: s.warmupRefused },
      members: this.membership?.counts() ?? {},
      view: {
        replicas: this.view.replicas,
        ageMs: this.view.ageMs,
        exchanges: this.view.stats.exchanges,
        failures: this.view.stats.failures,
        hints: { sent: this.view.stats.hintsSent, received: this.view.stats.hintsReceived },
      },
    };
  }

  /** Leaves the replica set (best effort) and closes the connection. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    clearInterval(this.heartbeat);
    this.membership?.stop();
    const wasReady = this.state === 'ready';
    await this.view.stop(wasReady);
    this.state = 'closed';
    if (wasReady) {
      await this.redis.plugwireLeave(this.replicasKey, this.replicaId).catch(() => undefined);
      await this.redis.quit().catch(() => undefined);
    }
    this.redis.disconnect();
  }

  private async beat(): Promise<void> {
    if (this.state === 'closed') return;
    try {
      const live = await this.redis.plugwireHeartbeat(
        this.replicasKey,
        this.replicaId,
        this.config.replicaTtl,
      );
      this.lastHeartbeat = performance.now();
      if (this.state !== 'ready') this.up();
      if (live !== this.liveReplicas && this.state === 'ready') {
        const previous = this.liveReplicas;
        this.liveReplicas = Math.max(1, live);
        this.hooks.events.emit('cluster-replicas', { live: this.liveReplicas, previous });
      }
    } catch (error) {
      this.down(errorMessage(error));
    }
  }

  private up(): void {
    if (this.state === 'ready' || this.state === 'closed') return;
    // Answered a command, or the client says it is ready: but a `ready` with a heartbeat still
    // failing (a stalled server) is corrected by the next failure.
    this.state = 'ready';
    this.epoch++;
    this.hooks.logger.info({ replica: this.replicaId }, 'plugwire: cluster Redis reachable');
    this.hooks.events.emit('cluster-redis', { state: 'ready' });
  }

  private down(reason: string): void {
    if (this.state === 'down' || this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'down';
    if (wasReady) this.stats.redisDowns++;
    const error = redactSecrets(reason);
    this.hooks.logger.warn(
      { replica: this.replicaId, err: error },
      'plugwire: cluster Redis unreachable; limits fall back to this replica’s share',
    );
    this.hooks.events.emit('cluster-redis', { state: 'down', error });
  }
}
