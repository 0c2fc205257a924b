/**
 * Overhead of manager.execute() over calling an in-process plugin directly.
 *
 * Each variant runs a warm-up, then RUNS timed rounds of ITERATIONS sequential awaited calls;
 * the median ns/call is reported. "Added" is the median minus the direct call's median.
 * Run: npm run bench -- execute   (or node --loader ts-node/esm bench/execute-overhead.ts)
 */
import CircuitBreakerOpossum from 'opossum';
import {
  Manager,
  definePlugin,
  type ExecutionContext,
  type RegisterOptions,
} from '../src/index.js';
import { median, nsPerCall, printTable } from './stats.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const plugin = definePlugin<number, number>({ name: 'echo', execute: (n) => n + 1 });
const signal = new AbortController().signal;
const ctx: ExecutionContext = {
  signal,
  cancellation: signal,
  deadline: Date.now() + 30_000,
  requestId: 'bench',
  attempt: 1,
  operation: undefined,
  headers: {},
  metadata: {},
};

async function measure(body: () => Promise<unknown>): Promise<number> {
  await nsPerCall(Math.min(ITERATIONS, 50_000), body); // warm-up: JIT, inline caches
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await nsPerCall(ITERATIONS, body));
  return median(runs);
}

async function viaManager(options: RegisterOptions): Promise<number> {
  const manager = new Manager<number, number>({ builtinTransports: false });
  await manager.register(
    definePlugin<number, number>({ name: 'echo', execute: (n) => n + 1 }),
    options,
  );
  const ns = await measure(() => manager.execute('echo', 1));
  await manager.shutdown();
  return ns;
}

const direct = await measure(() => plugin.execute(1, ctx));
const policies = {
  retry: { maxRetries: 3 },
  circuitBreaker: { enabled: true, failureThreshold: 5 },
};
const rows: Array<{ variant: string; ns: number }> = [
  { variant: 'direct plugin.execute()', ns: direct },
  {
    variant: 'manager.execute(): breaker + retry + metrics, rate limit off',
    ns: await viaManager({ ...policies, rateLimit: { enabled: false } }),
  },
  {
    variant: 'manager.execute(): breaker + retry + metrics, rate limit on',
    ns: await viaManager({
      ...policies,
      rateLimit: { enabled: true, requestsPerSecond: 1e9, burstSize: 1e9 },
    }),
  },
  {
    variant: 'manager.execute(): no breaker, no retry, rate limit off',
    ns: await viaManager({ retry: { maxRetries: 0 }, circuitBreaker: { enabled: false } }),
  },
];

// For reference (docs/resilience.md): the cost of wrapping the same call in opossum's fire().
const opossum = new CircuitBreakerOpossum((n: number) => plugin.execute(n, ctx), {
  timeout: false,
});
rows.push({
  variant: 'reference: opossum fire() around the direct call',
  ns: await measure(() => opossum.fire(1)),
});
opossum.shutdown();

printTable(
  `execute() overhead (Node ${process.version}, ${ITERATIONS} calls x ${RUNS} runs, median)`,
  rows.map((r) => ({
    variant: r.variant,
    'ns/call': r.ns.toFixed(0),
    'calls/s': Math.round(1e9 / r.ns).toLocaleString('en-US'),
    'added ns': r === rows[0] ? '-' : (r.ns - direct).toFixed(0),
  })),
);
