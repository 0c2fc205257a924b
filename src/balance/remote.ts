import type { Candidate } from './types.js';

/**
 * Cluster mode: what the other host replicas last published about one member (summed over the
 * replicas whose view is fresh). Undefined on a candidate when cluster mode is off, or no other
 * replica's view is fresh: strategies then see this replica's traffic alone.
 */
export interface RemoteLoad {
  /** Attempts the other replicas have in flight on the member. */
  readonly inFlight: number;
  /**
   * Work (ms) the other replicas have in flight on the member, as their `p2c` costs it; 0 when
   * they do not cost it (then {@link RemoteLoad.inFlight} is all there is).
   */
  readonly work: number;
  /** Mean of the other replicas' latency estimates of the member (ms); 0 when none has one. */
  readonly latency: number;
}

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
