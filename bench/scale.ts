/**
 * How the manager's bookkeeping grows with the number of plugins: load(), a rolling reload that
 * recreates every plugin, shutdown(), plugins(), metrics() and a Prometheus scrape, for
 * N = 10, 100, 1,000 and 5,000 in-process plugins (a factory registered for a `memory`
 * transport, so they go through load()'s config validation like remote ones; health checks on,
 * so each start includes a first health check). Beside them, the same in the same run without
 * the manager: creating the plugins, one health check each, closing them; and prom-client's own
 * Counter/Gauge/Histogram holding the same series as the scrape.
 * Run: npm run bench -- scale    (BENCH_SIZES=10,100 BENCH_RUNS=3 to change)
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Manager, definePlugin, type PluginFactory } from '../src/index.js';
import { collectPrometheus, DEFAULT_DURATION_BUCKETS } from '../src/observe/prometheus.js';
import { median, printTable } from './stats.js';

const SIZES = (process.env.BENCH_SIZES ?? '10,100,1000,5000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const create = (name: string) => definePlugin({ name, execute: (n: number) => n + 1 });
const memory: PluginFactory = { transports: ['memory'], create: (config) => create(config.name) };

function config(n: number, version: number): unknown {
  return {
    plugins: Array.from({ length: n }, (_, i) => ({
      name: `p${i}`,
      transport: 'memory',
      endpoint: `memory://v${version}`, // a change that recreates the plugin
      healthCheck: { interval: '1h' },
    })),
  };
}

/** CPU (user + system) and wall ms of `work`. */
async function measure(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

/** prom-client's own metrics holding the series of `text` (same names, labels and values). */
function bareRegistry(text: string): Registry {
  const registry = new Registry();
  const samples = text
    .split('\n')
    .map((line) => /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({
      name: m[1]!,
      labels: Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((kv) => [kv[1]!, kv[2]!]),
      ),
      value: Number(m[3]),
    }));
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  for (const [name, type] of types) {
    const own = samples.filter((s) => s.name === name || s.name === `${name}_count`);
    const labelNames = [...new Set(own.flatMap((s) => Object.keys(s.labels)))];
    if (type === 'histogram') {
      const h = new Histogram({
        name,
        help: name,
        labelNames,
        buckets: [...DEFAULT_DURATION_BUCKETS],
        registers: [registry],
      });
      for (const s of own) for (let i = 0; i < s.value; i++) h.observe(s.labels, 0.0001);
    } else {
      const metric =
        type === 'counter'
          ? new Counter({ name, help: name, labelNames, registers: [registry] })
          : new Gauge({ name, help: name, labelNames, registers: [registry] });
      for (const s of own) metric.inc(s.labels, s.value);
    }
  }
  return registry;
}

async function scrapes(registry: Registry): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < 3; i++) await registry.metrics(); // warm
  const runs = [];
  for (let i = 0; i < 9; i++) runs.push(await measure(() => registry.metrics()));
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
}

interface Sample {
  [key: string]: number;
}

async function once(n: number): Promise<Sample> {
  // Without the manager: create, one health check each, close.
  const bare = await measure(async () => {
    const plugins = Array.from({ length: n }, (_, i) => create(`p${i}`));
    const signal = new AbortController().signal;
    await Promise.all(plugins.map((p) => p.health(signal)));
    await Promise.all(plugins.map((p) => p.close()));
  });

  const manager = new Manager();
  manager.registerFactory('memory', memory);
  const load = await measure(async () => {
    const result = await manager.load(config(n, 1));
    if (result.plugins.some((p) => p.state !== 'ready')) throw new Error('a plugin did not start');
  });
  if (!manager.readiness().ready) throw new Error('not ready after load');
  const reload = await measure(async () => {
    const result = await manager.reload(config(n, 2));
    if (result.recreated.length !== n) throw new Error(`recreated ${result.recreated.length}`);
  });
  for (let i = 0; i < n; i++) await manager.execute(`p${i}`, i);
  const plugins = await measure(async () => manager.plugins());
  const metrics = await measure(async () => manager.metrics());
  const registry = new Registry();
  const collector = await collectPrometheus(manager, { registry });
  const scrape = await scrapes(registry);
  const text = await registry.metrics();
  if (!text.includes(`plugin="p${n - 1}"`)) throw new Error('the scrape misses a plugin');
  collector.stop();
  const shutdown = await measure(() => manager.shutdown());
  const bareScrape = await scrapes(bareRegistry(text));
  return {
    bare: bare.wall,
    load: load.wall,
    loadCpu: load.cpu,
    reload: reload.wall,
    shutdown: shutdown.wall,
    plugins: plugins.wall,
    metrics: metrics.wall,
    scrape: scrape.wall,
    scrapeCpu: scrape.cpu,
    bareScrape: bareScrape.wall,
    bareScrapeCpu: bareScrape.cpu,
    series: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
  };
}

const rows = [];
for (const n of SIZES) {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(n));
  const ms = (k: string): string => {
    const v = median(samples.map((s) => s[k]!));
    return v < 10 ? v.toFixed(2) : v.toFixed(0);
  };
  rows.push({
    plugins: n,
    'bare create+check+close': ms('bare'),
    'load()': ms('load'),
    'load() CPU': ms('loadCpu'),
    'reload() all recreated': ms('reload'),
    'shutdown()': ms('shutdown'),
    'plugins()': ms('plugins'),
    'metrics()': ms('metrics'),
    'scrape (CPU)': `${ms('scrape')} (${ms('scrapeCpu')})`,
    'bare prom-client scrape (CPU)': `${ms('bareScrape')} (${ms('bareScrapeCpu')})`,
    series: ms('series'),
  });
}
printTable(
  `ms, median of ${RUNS} runs; Node ${process.version}, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`,
  rows,
);
