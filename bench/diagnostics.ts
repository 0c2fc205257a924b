/**
 * What the diagnostics_channel publishing (src/observe/diagnostics.ts) costs execute().
 *
 * Variants, each measured on its own manager with one in-process echo plugin (breaker + retry +
 * metrics on, rate limit off, as in execute-overhead.ts):
 *   - nobody subscribed: what every host pays (one `hasSubscribers` check per call and attempt);
 *   - no-op subscribers on all five events of `plugwire:execute` and `plugwire:attempt`;
 *   - the same plus an AsyncLocalStorage bound to both `start` channels (what an APM agent does).
 * Variants run interleaved (alternating order), RUNS rounds of ITERATIONS sequential awaited calls
 * each, and the median per variant is reported, so that drift on a busy machine hits them all
 * alike: wall ns per call, and CPU ns per call (process user + system time), which other
 * processes on a busy machine disturb less.
 *
 * Two phases: "before" and "nobody subscribed" first, while nothing has ever subscribed in the
 * process (as in a host without an APM agent: the traced branch has never run, so it has not
 * coloured the JIT's view of execute()); then the subscribed variants.
 *
 * "Before" (the code without the channels) runs in the same process, interleaved, when
 * PLUGWIRE_BASE_SRC points at an older checkout of src/index.ts:
 *   git archive <commit> src | tar -x -C .bench-base && \
 *   PLUGWIRE_BASE_SRC=../.bench-base/src/index.js npm run bench -- diagnostics
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { median, nsPerCall, printTable } from './stats.js';

import * as current from '../src/index.js';

const baseSource = process.env.PLUGWIRE_BASE_SRC;
const base = baseSource === undefined ? undefined : ((await import(baseSource)) as typeof current);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const noop = (): void => undefined;
const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
const channels = [tracingChannel('plugwire:execute'), tracingChannel('plugwire:attempt')];
const store = new AsyncLocalStorage<object>();

type Call = () => Promise<number>;
interface Variant {
  name: string;
  call: Call;
  on(): void;
  off(): void;
  samples: number[];
  cpu: number[];
}

async function echo(lib: typeof current): Promise<{ call: Call; stop(): Promise<void> }> {
  const manager = new lib.Manager<number, number>({ builtinTransports: false });
  await manager.register(
    lib.definePlugin<number, number>({ name: 'echo', execute: (n) => n + 1 }),
    {
      retry: { maxRetries: 3 },
      circuitBreaker: { enabled: true, failureThreshold: 5 },
      rateLimit: { enabled: false },
    },
  );
  return { call: () => manager.execute('echo', 1), stop: () => manager.shutdown() };
}

const now = await echo(current);
const before = base === undefined ? undefined : await echo(base);
const variants: Variant[] = [
  ...(before === undefined
    ? []
    : [
        {
          name: `before (${baseSource})`,
          call: before.call,
          on: noop,
          off: noop,
          samples: [],
          cpu: [],
        },
      ]),
  {
    name: 'execute(), nobody subscribed',
    call: now.call,
    on: noop,
    off: noop,
    samples: [],
    cpu: [],
  },
  {
    name: 'execute(), no-op subscribers on both channels',
    call: now.call,
    on: () => channels.forEach((c) => c.subscribe(handlers)),
    off: () => channels.forEach((c) => c.unsubscribe(handlers)),
    samples: [],
    cpu: [],
  },
  {
    name: 'execute(), subscribers + AsyncLocalStorage bound to start',
    call: now.call,
    on: () =>
      channels.forEach((c) => {
        c.subscribe(handlers);
        c.start.bindStore(store, (message) => message);
      }),
    off: () =>
      channels.forEach((c) => {
        c.unsubscribe(handlers);
        c.start.unbindStore(store);
      }),
    samples: [],
    cpu: [],
  },
];

async function phase(list: Variant[]): Promise<void> {
  for (const variant of list) {
    variant.on();
    await nsPerCall(Math.min(ITERATIONS, 50_000), variant.call); // warm-up: JIT, inline caches
    variant.off();
  }
  for (let run = 0; run < RUNS; run++) {
    for (const variant of run % 2 === 0 ? list : [...list].reverse()) {
      variant.on();
      const cpu = process.cpuUsage();
      variant.samples.push(await nsPerCall(ITERATIONS, variant.call));
      const used = process.cpuUsage(cpu);
      variant.cpu.push(((used.user + used.system) * 1000) / ITERATIONS);
      variant.off();
    }
  }
}
const unsubscribed = before === undefined ? 1 : 2;
await phase(variants.slice(0, unsubscribed));
await phase(variants.slice(unsubscribed));
await now.stop();
await before?.stop();

const reference = variants.find((v) => v.name === 'execute(), nobody subscribed')!;
printTable(
  `diagnostics_channel cost (Node ${process.version}, ${ITERATIONS} calls x ${RUNS} runs, median)`,
  variants.map((v) => ({
    variant: v.name,
    'ns/call': median(v.samples).toFixed(0),
    'cpu ns/call': median(v.cpu).toFixed(0),
    'cpu ns vs nobody subscribed': (median(v.cpu) - median(reference.cpu)).toFixed(0),
  })),
);
