import type { ClusterStatus } from '../cluster/status.js';

type Sample = { labels: Record<string, string | number>; value: number };
type Define = (name: string, help: string, type: 'counter' | 'gauge', read: () => Sample[]) => void;

/**
 * The cluster-mode series (docs/cluster.md), registered only for a manager that has a `cluster`
 * section; read from `manager.cluster()` at scrape time.
 */
export function clusterMetrics(define: Define, status: () => ClusterStatus | undefined): void {
  const one = (pick: (s: ClusterStatus) => number) => (): Sample[] => {
    const s = status();
    return s === undefined ? [] : [{ labels: {}, value: pick(s) }];
  };
  define(
    'cluster_redis_up',
    'Whether this replica can use the cluster Redis now: 1 yes, 0 no (limits use the local share).',
    'gauge',
    one((s) => (s.redis === 'ready' ? 1 : 0)),
  );
  define(
    'cluster_redis_downs_total',
    'Times the cluster Redis went from reachable to unreachable.',
    'counter',
    one((s) => s.redisDowns),
  );
  define(
    'cluster_live_replicas',
    'Host replicas counted live at the last heartbeat, this one included.',
    'gauge',
    one((s) => s.liveReplicas),
  );
  define(
    'cluster_heartbeat_age_seconds',
    'Seconds since Redis last answered this replica’s heartbeat.',
    'gauge',
    () => {
      const age = status()?.heartbeatAgeMs;
      return age === undefined ? [] : [{ labels: {}, value: age / 1000 }];
    },
  );
  define(
    'cluster_lease_requests_total',
    'Token leases asked of Redis by cluster-scope rate limits, by result.',
    'counter',
    () => {
      const s = status();
      if (s === undefined) return [];
      const { requests, failures } = s.leases;
      return [
        { labels: { result: 'success' }, value: requests - failures },
        { labels: { result: 'failure' }, value: failures },
      ];
    },
  );
  define(
    'cluster_local_decisions_total',
    'Cluster-scope rate-limit decisions made by the local share, by reason (fallback: Redis down; warmup: no lease in hand yet) and result.',
    'counter',
    () => {
      const s = status();
      if (s === undefined) return [];
      return (['fallback', 'warmup'] as const).flatMap((reason) => [
        { labels: { reason, result: 'admitted' }, value: s[reason].admitted },
        { labels: { reason, result: 'refused' }, value: s[reason].refused },
      ]);
    },
  );
  define('cluster_members', 'Members known per registry group (cluster.members).', 'gauge', () =>
    Object.entries(status()?.members ?? {}).map(([group, n]) => ({ labels: { group }, value: n })),
  );
  define(
    'cluster_view_replicas',
    'Other host replicas whose shared load view this replica combines now (fresh within viewTtl).',
    'gauge',
    one((s) => s.view.replicas),
  );
  define(
    'cluster_view_age_seconds',
    'Seconds since this replica last exchanged load views with Redis.',
    'gauge',
    () => {
      const age = status()?.view.ageMs;
      return age === undefined ? [] : [{ labels: {}, value: age / 1000 }];
    },
  );
  define(
    'cluster_view_exchanges_total',
    'Load view exchanges with Redis (one round trip each), by result.',
    'counter',
    () => {
      const s = status();
      if (s === undefined) return [];
      return [
        { labels: { result: 'success' }, value: s.view.exchanges },
        { labels: { result: 'failure' }, value: s.view.failures },
      ];
    },
  );
  define(
    'cluster_hints_total',
    'Hints that a member failed (breaker opened, ejected): sent by this replica, received from others.',
    'counter',
    () => {
      const s = status();
      if (s === undefined) return [];
      return [
        { labels: { direction: 'sent' }, value: s.view.hints.sent },
        { labels: { direction: 'received' }, value: s.view.hints.received },
      ];
    },
  );
}
