/**
 * What the diagnostics_channel publishing (src/observe/diagnostics.ts) costs execute().
 *
 * Variants, each measured on its own manager with one in-process echo plugin (breaker + retry +
 * metrics on, rate limit off, as in execute-overhead.ts):
 *   - nobody subscribed: what every host pays (one `hasSubscribers` check per call and attempt);
 *   - no-op subscribers on all five events of `plugwire:execute` and `plugwire:attempt`;
 *   - the same plus an AsyncLocalStorage bound to both `start` channels (what an APM agent does).
 * The variants run interleaved, RUNS rounds of ITERATIONS sequential awaited calls each, and the
 * median ns/call per variant is reported, so that drift on a busy machine hits them all alike.
 *
 * "Before" (the code without the channels) is measured by pointing PLUGWIRE_SRC at a checkout of
 * an older src/index.ts; only the "nobody subscribed" row means anything there:
 *   git archive <commit> src | tar -x -C .bench-base && \
 *   PLUGWIRE_SRC=../.bench-base/src/index.js npm run bench -- diagnostics
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { median, nsPerCall, printTable } from './stats.js';

const source = process.env.PLUGWIRE_SRC ?? '../src/index.js';
const { Manager, definePlugin } = (await import(source)) as typeof import('../src/index.js');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const noop = (): void => undefined;
const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
const channels = [tracingChannel('plugwire:execute'), tracingChannel('plugwire:attempt')];
const store = new AsyncLocalStorage<object>();

interface Variant {
  name: string;
  on(): void;
  off(): void;
  samples: number[];
}
const variants: Variant[] = [
  { name: 'execute(), nobody subscribed', on: noop, off: noop, samples: [] },
  {
    name: 'execute(), no-op subscribers on both channels',
    on: () => channels.forEach((c) => c.subscribe(handlers)),
    off: () => channels.forEach((c) => c.unsubscribe(handlers)),
    samples: [],
  },
  {
    name: 'execute(), subscribers + AsyncLocalStorage bound to start',
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
  },
];

const manager = new Manager<number, number>({ builtinTransports: false });
await manager.register(definePlugin<number, number>({ name: 'echo', execute: (n) => n + 1 }), {
  retry: { maxRetries: 3 },
  circuitBreaker: { enabled: true, failureThreshold: 5 },
  rateLimit: { enabled: false },
});
const call = (): Promise<number> => manager.execute('echo', 1);

for (const variant of variants) {
  variant.on();
  await nsPerCall(Math.min(ITERATIONS, 50_000), call); // warm-up: JIT, inline caches
  variant.off();
}
for (let run = 0; run < RUNS; run++) {
  for (const variant of variants) {
    variant.on();
    variant.samples.push(await nsPerCall(ITERATIONS, call));
    variant.off();
  }
}
await manager.shutdown();

const base = median(variants[0]!.samples);
printTable(
  `diagnostics_channel cost (Node ${process.version}, src ${source}, ${ITERATIONS} calls x ${RUNS} runs, median)`,
  variants.map((v) => ({
    variant: v.name,
    'ns/call': median(v.samples).toFixed(0),
    'added ns': v === variants[0] ? '-' : (median(v.samples) - base).toFixed(0),
  })),
);
