/**
 * The pipeline's cost per call with many calls in flight, in process: 64 workers calling an
 * in-process plugin whose replies come back one per macrotask (setImmediate), as a socket's
 * replies do, so that the pipeline's objects and promises of 64 calls live side by side. The
 * same plugin is called directly (with a fresh request id per call, as a transport reads one),
 * alternating rounds; the difference of the medians is what `manager.execute()` adds. Unlike
 * bench/execute-overhead.ts (one call at a time, hot caches) this is the pattern of
 * bench/transports.ts without the syscalls, quiet enough to compare two builds.
 *
 * Run: npm run bench -- pipeline-inflight   Env: BENCH_CALLS (200000 per round),
 *      BENCH_RUNS (15 rounds per side), BENCH_CONCURRENCY (64)
 */
import { randomUUID } from 'node:crypto';
import { Manager, definePlugin, type Cancellation, type ExecutionContext } from '../src/index.js';
import { median, printTable } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);

// Replies waiting to be delivered, one per macrotask.
const replies: Array<() => void> = [];
let pumping = false;
function pump(): void {
  pumping = false;
  replies.shift()?.();
  if (replies.length > 0 && !pumping) {
    pumping = true;
    setImmediate(pump);
  }
}
function replyLater<T>(value: T): Promise<T> {
  return new Promise((resolve) => {
    replies.push(() => resolve(value));
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
  });
}

const plugin = definePlugin<number, number>({
  name: 'echo',
  execute: (n, ctx) => {
    void ctx.requestId; // a transport reads it for its envelope
    return replyLater(n);
  },
});

const NEVER: Cancellation = {
  aborted: false,
  reason: undefined,
  addEventListener() {},
  removeEventListener() {},
};
const NO_ENTRIES: Readonly<Record<string, string>> = Object.freeze({});
/** What the pipeline hands a plugin for one attempt, with nothing behind it. */
class DirectContext implements ExecutionContext {
  readonly cancellation = NEVER;
  readonly deadline = Date.now() + 30_000;
  readonly requestId = randomUUID();
  readonly attempt = 1;
  readonly operation = undefined;
  readonly headers = NO_ENTRIES;
  readonly metadata = NO_ENTRIES;

  get signal(): AbortSignal {
    return new AbortController().signal;
  }
}

const manager = new Manager<number, number>({ builtinTransports: false });
await manager.register(plugin);

type Side = 'direct' | 'manager';
const sides: Record<Side, (n: number) => Promise<number>> = {
  direct: (n) => plugin.execute(n, new DirectContext()) as Promise<number>,
  manager: (n) => manager.execute('echo', n),
};

/** CPU time per call (ns) of CALLS calls from CONCURRENCY workers. */
async function round(call: (n: number) => Promise<number>): Promise<number> {
  let left = CALLS;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await call(left);
    }),
  );
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / CALLS;
}

for (const call of Object.values(sides)) await round(call); // warm-up
const ns: Record<Side, number[]> = { direct: [], manager: [] };
for (let r = 0; r < RUNS; r++) {
  for (const side of Object.keys(sides) as Side[]) ns[side].push(await round(sides[side]));
}
await manager.shutdown();

const direct = median(ns.direct);
const through = median(ns.manager);
printTable(
  `pipeline cost with ${CONCURRENCY} calls in flight, replies one per macrotask (Node ${process.version}, ${CALLS} calls x ${RUNS} rounds per side, median CPU ns/call)`,
  [
    { side: 'plugin.execute() directly', 'CPU ns/call': direct.toFixed(0), 'added ns': '-' },
    {
      side: 'manager.execute()',
      'CPU ns/call': through.toFixed(0),
      'added ns': (through - direct).toFixed(0),
    },
  ],
);
