import type { Candidate } from './types.js';

export type { RemoteLoad } from './types.js';

/** Attempts in flight on `candidate` from this replica and, in cluster mode, the others. */
export function totalInFlight(candidate: Candidate): number {
  const remote = candidate.remote;
  return remote === undefined ? candidate.inFlight : candidate.inFlight + remote.inFlight;
}

/** Per-operation latency statistics as replicas share them: a sum of latencies and their count. */
export interface SharedOperation {
  sum: number;
  count: number;
}

/**
 * @internal What the cluster's load view asks of a strategy that shares what it learns
 * (`p2c`, `adaptive`): duck-typed, so custom strategies need none of it.
 */
export interface SharesLoad {
  /** The work (ms) this replica has in flight on `members[i]`, as published to the others. */
  sharedWork?(members: readonly Candidate[], i: number): number;
  /** This replica's own per-operation statistics: `[operation, sum, count]`, recent first. */
  localOperations?(limit: number): Array<[string, number, number]>;
  /** The other replicas' per-operation statistics, merged; undefined when there are none. */
  setSharedOperations?(operations: ReadonlyMap<string, SharedOperation> | undefined): void;
}
