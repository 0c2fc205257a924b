import type { Candidate, LatencyTracker } from './types.js';

// An instance with requests in flight but no latency measured yet (it just joined, or its first
// replies are slow): ranked behind every measured one, then by in-flight count. Finagle does
// the same, so that a new instance is not flooded before its first reply says how fast it is.
const UNMEASURED_PENALTY = 1e12;

/**
 * The expected latency of one more request on `candidate`: peak-EWMA estimate × (in-flight + 1).
 * Lower is better; 0 for an idle instance never measured (or whose estimate fully decayed),
 * so such an instance is tried first. `now` is passed on to the tracker (see
 * {@link LatencyTracker.estimate}).
 */
export function expectedLatency(candidate: Candidate, now?: number): number {
  const cost = candidate.latency.estimate(now);
  const inFlight = candidate.inFlight;
  if (cost === 0) return inFlight === 0 ? 0 : UNMEASURED_PENALTY + inFlight;
  return cost * (inFlight + 1);
}
