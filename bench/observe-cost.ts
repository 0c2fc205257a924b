/**
 * What observability costs.
 *
 * 1. Per call: manager.execute() on an in-process plugin with nothing, with a Prometheus
 *    collector registered (should add nothing: values are read at scrape time), and with tracing
 *    through a no-op tracer (the OpenTelemetry API without an SDK) and through the SDK
 *    (BasicTracerProvider + SimpleSpanProcessor + an exporter that drops spans, W3C propagator).
 *    "Added" is the median minus the plain variant's median.
 * 2. Per scrape: registry.metrics() for 10 and 100 plugins (every metric, parsed by nobody).
 *
 * The tracing rows need the Manager's `tracer` option; on a manager without it they measure the
 * plain path. Run: npm run bench -- observe
 */
import { context, propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  SimpleSpanProcessor,
  BasicTracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { Manager, definePlugin } from '../src/index.js';
import { collectPrometheus } from '../src/observe/prometheus.js';
import { createOtelTracer, type CallTracer } from '../src/observe/tracing.js';
import { median, nsPerCall, printTable } from './stats.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 200);

async function measure(body: () => Promise<unknown>): Promise<number> {
  await nsPerCall(Math.min(ITERATIONS, 20_000), body); // warm-up: JIT, inline caches
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await nsPerCall(ITERATIONS, body));
  return median(runs);
}

const POLICY = { retry: { maxRetries: 3 }, circuitBreaker: { enabled: true } };

/** A manager with `plugins` echo plugins; the options object is not a literal (see below). */
async function managerWith(plugins: number, tracer?: CallTracer): Promise<Manager<number, number>> {
  // Passed as a variable so that this file compiles on a manager without the `tracer` option.
  const options = { builtinTransports: false, tracer };
  const manager = new Manager<number, number>(options);
  for (let i = 0; i < plugins; i++) {
    await manager.register(
      definePlugin<number, number>({ name: `echo-${i}`, execute: (n) => n + 1 }),
      { ...POLICY, healthCheck: { enabled: false } },
    );
  }
  return manager;
}

async function perCall(tracer?: CallTracer, prometheus = false): Promise<number> {
  const manager = await managerWith(1, tracer);
  const collector = prometheus
    ? await collectPrometheus(manager, { registry: new Registry() })
    : undefined;
  const ns = await measure(() => manager.execute('echo-0', 1));
  collector?.stop();
  await manager.shutdown();
  return ns;
}

// ---------- per call ----------

const plain = await perCall();
const withPrometheus = await perCall(undefined, true);
const noopTracer = await perCall(await createOtelTracer()); // no SDK registered: API no-ops

const dropSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(dropSpans)],
});
const sdkTracer = await perCall(
  await createOtelTracer({
    tracer: provider.getTracer('bench'),
    propagator: new W3CTraceContextPropagator(),
  }),
);
await provider.shutdown();
context.disable();
propagation.disable();

const callRows = [
  { variant: 'execute(), no exporter, no tracer', ns: plain },
  { variant: 'execute(), Prometheus collector registered', ns: withPrometheus },
  { variant: 'execute(), tracer over the OTel API without SDK (no-op)', ns: noopTracer },
  { variant: 'execute(), tracer over the OTel SDK (spans dropped)', ns: sdkTracer },
];
printTable(
  `observability cost per call (Node ${process.version}, ${ITERATIONS} calls x ${RUNS} runs, median)`,
  callRows.map((r) => ({
    variant: r.variant,
    'ns/call': r.ns.toFixed(0),
    'added ns': r === callRows[0] ? '-' : (r.ns - plain).toFixed(0),
  })),
);

// ---------- per scrape ----------

const scrapeRows: Array<Record<string, string>> = [];
for (const plugins of [10, 100]) {
  const manager = await managerWith(plugins);
  for (let i = 0; i < plugins; i++) await manager.execute(`echo-${i}`, i);
  const registry = new Registry();
  const collector = await collectPrometheus(manager, { registry });
  let bytes = 0;
  for (let i = 0; i < 20; i++) bytes = (await registry.metrics()).length; // warm-up
  const samples: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const start = process.hrtime.bigint();
    await registry.metrics();
    samples.push(Number(process.hrtime.bigint() - start) / 1e3);
  }
  collector.stop();
  await manager.shutdown();
  scrapeRows.push({
    plugins: String(plugins),
    'µs/scrape (median)': median(samples).toFixed(0),
    'exposition bytes': bytes.toLocaleString('en-US'),
  });
}
printTable(`Prometheus scrape cost (${SCRAPES} scrapes, median)`, scrapeRows);
