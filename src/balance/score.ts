import { totalInFlight } from './remote.js';
import type { Candidate, LatencyTracker } from './types.js';

// An instance with requests in flight but no latency measured yet (it just joined, or its first
// replies are slow): ranked behind every measured one, then by in-flight count. Finagle does
// the same, so that a new instance is not flooded before its first reply says how fast it is.
const UNMEASURED_PENALTY = 1e12;

/**
 * The expected latency of one more request on `candidate`: peak-EWMA estimate × (in-flight + 1),
 * in-flight counting the other replicas' attempts in cluster mode.
 * Lower is better; 0 for an idle instance never measured (or whose estimate fully decayed),
 * so such an instance is tried first. `now` is passed on to the tracker (see
 * {@link LatencyTracker.estimate}).
 */
export function expectedLatency(candidate: Candidate, now?: number): number {
  let cost = candidate.latency.estimate(now);
  const remote = candidate.remote;
  // Cluster mode: the others' attempts count, and their estimate stands in until we have ours.
  if (cost === 0 && remote !== undefined) cost = remote.latency;
  const inFlight = totalInFlight(candidate);
  if (cost === 0) return inFlight === 0 ? 0 : UNMEASURED_PENALTY + inFlight;
  return cost * (inFlight + 1);
}
