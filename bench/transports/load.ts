/** The load generator of the transport benchmark: a fixed pool of workers sharing N calls. */
import { readFileSync, readdirSync } from 'node:fs';

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
  /**
   * CPU time the benchmark's child processes (the plugin servers) spent per call, µs, read
   * from /proc (10 ms ticks; NaN where /proc is missing). With the host's figure, the whole
   * cost of a call on the machine: what decides throughput when the cores are shared.
   */
  childCpuMicrosPerCall: number;
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
  const childCpu = childrenCpuMicros();
  const started = performance.now();
  const workers: Array<Promise<void>> = [];
  for (let i = 0; i < concurrency; i++) workers.push(worker());
  await Promise.all(workers);
  const seconds = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  const cpuMicrosPerCall = (used.user + used.system) / calls;
  const childCpuMicrosPerCall = (childrenCpuMicros() - childCpu) / calls;
  return { seconds, latenciesMs, cpuMicrosPerCall, childCpuMicrosPerCall, errors, firstError };
}

/** User + system CPU time of this process's live children, µs (Linux /proc; NaN elsewhere). */
export function childrenCpuMicros(): number {
  try {
    let ticks = 0;
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8');
      for (const pid of children.split(' ').filter(Boolean)) {
        try {
          // Fields after the command (which may hold spaces) start after its closing paren.
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
        } catch {
          // The child exited meanwhile.
        }
      }
    }
    return (ticks * 1_000_000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}
