/**
 * Load balancing for plugin groups: strategies registered by name, the peak-EWMA tracker they
 * read, and the group route the pipeline calls.
 */
export type {
  Balancer,
  BalancerDeps,
  BalancerFactory,
  Candidate,
  LatencyTracker,
  PickRequest,
} from './types.js';
export { totalInFlight, type RemoteLoad } from './remote.js';
export { blockReason, type BlockReason, type SlotView } from './availability.js';
export { GroupRoute, type GroupMember, type GroupRequest, type RoutePolicy } from './GroupRoute.js';
export { PeakEwma, DEFAULT_DECAY_MS, type PeakEwmaOptions } from './PeakEwma.js';
export { expectedLatency } from './score.js';
export { BalancerRegistry, balancerNames, createBalancer, DEFAULT_STRATEGY } from './registry.js';
export { RoundRobinBalancer } from './strategies/round-robin.js';
export { RandomBalancer } from './strategies/random.js';
export { DEFAULT_CHOICES, SCAN_LIMIT } from './sample.js';
export {
  LeastConnectionsBalancer,
  type LeastConnectionsOptions,
} from './strategies/least-connections.js';
export { LeastLatencyBalancer, type LeastLatencyOptions } from './strategies/least-latency.js';
export { WeightedRandomBalancer } from './strategies/weighted-random.js';
export {
  ConsistentHashBalancer,
  DEFAULT_VIRTUAL_NODES,
  type ConsistentHashOptions,
} from './strategies/consistent-hash.js';
export { PriorityBalancer } from './strategies/priority.js';
export { P2CBalancer, type P2COptions } from './strategies/p2c.js';
export {
  AdaptiveBalancer,
  type AdaptiveOptions,
  type OperationClass,
} from './strategies/adaptive.js';
