/** The load generator of the transport benchmark: a fixed pool of workers sharing N calls. */

/** What one timed run measured. */
export interface LoadRun {
  /** Wall-clock time of the whole run. */
  seconds: number;
  /** Latency of each call in ms, in start order. */
  latenciesMs: Float64Array;
  /**
   * CPU time (user + system) this process spent per call, µs. The plugin server runs elsewhere,
   * so this is the client side's own cost, and it holds even on a machine busy with other work.
   */
  cpuMicrosPerCall: number;
  errors: number;
  firstError: unknown;
}

/**
 * Makes `calls` calls with exactly `concurrency` in flight: that many async workers, each taking
 * the next call as soon as its previous one settles. A closed loop, so the figures show what
 * the client and server sustain together, not how a queue grows under an open arrival rate.
 * Failed calls are counted (and their latency kept) rather than ending the run.
 */
export async function runLoad(
  calls: number,
  concurrency: number,
  call: () => Promise<unknown>,
): Promise<LoadRun> {
  const latenciesMs = new Float64Array(calls);
  let next = 0;
  let errors = 0;
  let firstError: unknown;
  async function worker(): Promise<void> {
    while (next < calls) {
      const index = next++;
      const started = performance.now();
      try {
        await call();
      } catch (error) {
        if (errors++ === 0) firstError = error;
      }
      latenciesMs[index] = performance.now() - started;
    }
  }
  const cpu = process.cpuUsage();
  const started = performance.now();
  const workers: Array<Promise<void>> = [];
  for (let i = 0; i < concurrency; i++) workers.push(worker());
  await Promise.all(workers);
  const seconds = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  const cpuMicrosPerCall = (used.user + used.system) / calls;
  return { seconds, latenciesMs, cpuMicrosPerCall, errors, firstError };
}
