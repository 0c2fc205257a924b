// What manager.cluster() reports: plain types in a leaf module, so that the public declarations
// never lead to the modules that import the optional peer ioredis.

/** How this replica sees Redis. `down`: unreachable or too slow; local decisions only. */
export type RedisState = 'connecting' | 'ready' | 'down' | 'closed';

/** `manager.cluster()`: what this replica knows of the cluster, and what it did without Redis. */
export interface ClusterStatus {
  replicaId: string;
  namespace: string;
  redis: RedisState;
  /** Replicas heard from within `replicaTtl` at the last heartbeat (this one included). */
  liveReplicas: number;
  /** Ms since the last heartbeat Redis answered; undefined before the first. */
  heartbeatAgeMs: number | undefined;
  /** Times Redis went from reachable to unreachable. */
  redisDowns: number;
  /** Cluster rate limits: lease commands sent, failed, and tokens granted by Redis. */
  leases: { requests: number; failures: number; tokens: number };
  /** Rate-limit decisions made locally (share = limit ÷ live replicas) because Redis was not usable. */
  fallback: { admitted: number; refused: number };
  /**
   * Rate-limit decisions made by the same local share while Redis was reachable but no lease was
   * in hand yet (at the start, after Redis came back, after a pause longer than a lease's life).
   */
  warmup: { admitted: number; refused: number };
  /** Members known per `cluster.members` group (the last list read while Redis answered). */
  members: Record<string, number>;
  /** The shared load view (docs/cluster.md#shared-load-view). */
  view: {
    /** Other replicas whose view is combined now (fresh within `viewTtl`). */
    replicas: number;
    /** Ms since the last successful exchange with Redis; undefined before the first. */
    ageMs: number | undefined;
    /** Exchanges (one Redis round trip each) that succeeded, and that failed. */
    exchanges: number;
    failures: number;
    /** Hints published by this replica, and received from others (each probed). */
    hints: { sent: number; received: number };
  };
}
