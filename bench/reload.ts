/**
 * Calls lost and latency during a rolling reload of 10 exec plugins under load, against the same
 * load without a reload. Each phase runs WORKERS callers for PHASE_MS; the reload phase recreates
 * every plugin (new args) half-way through.
 * Run: npm run bench -- reload
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager, isPluginError } from '../src/index.js';
import { percentile, printTable } from './stats.js';

const FIXTURE = new URL('../test/fixtures/health-plugin.mjs', import.meta.url).pathname;
const PLUGINS = 10;
const WORKERS = Number(process.env.BENCH_WORKERS ?? 32);
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 4_000);

const config = (version: number) => ({
  plugins: Array.from({ length: PLUGINS }, (_, i) => ({
    name: `p${i}`,
    transport: 'exec',
    executable: process.execPath,
    args: [FIXTURE, `--version=${version}`],
    healthCheck: { interval: '5s' },
  })),
});

async function phase(manager: Manager, during?: () => Promise<unknown>) {
  const latencies: number[] = [];
  let lost = 0;
  let running = true;
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    for (let n = 0; running; n++) {
      const started = performance.now();
      try {
        await manager.execute(`p${(w + n) % PLUGINS}`, { n }, { timeoutMs: 5_000 });
        latencies.push(performance.now() - started);
      } catch (error) {
        lost++;
        if (lost <= 3) console.error(isPluginError(error) ? error.message : error);
      }
    }
  });
  await sleep(PHASE_MS / 2);
  const reload = during ? await during() : undefined;
  await sleep(PHASE_MS / 2);
  running = false;
  await Promise.all(workers);
  return { latencies, lost, reload };
}

const manager = new Manager();
await manager.load(config(1));
await phase(manager); // warm-up
const steady = await phase(manager);
let version = 2;
const reloading = await phase(manager, async () => {
  const started = performance.now();
  const result = await manager.reload(config(version++), { strategy: 'rolling' });
  return { ms: performance.now() - started, recreated: result.recreated.length };
});
await manager.shutdown();

const row = (name: string, p: Awaited<ReturnType<typeof phase>>) => ({
  phase: name,
  calls: p.latencies.length + p.lost,
  lost: p.lost,
  'calls/s': Math.round((p.latencies.length + p.lost) / (PHASE_MS / 1_000)),
  'p50 ms': percentile(p.latencies, 0.5).toFixed(2),
  'p99 ms': percentile(p.latencies, 0.99).toFixed(2),
  'max ms': p.latencies.reduce((a, b) => (a > b ? a : b), 0).toFixed(1),
});
printTable(
  `Rolling reload of ${PLUGINS} exec plugins under load (${WORKERS} callers, Node ${process.version})`,
  [row('steady load', steady), row('load + rolling reload', reloading)],
);
const info = reloading.reload as { ms: number; recreated: number };
console.log(`\nThe reload recreated ${info.recreated} plugins in ${info.ms.toFixed(0)} ms.`);
