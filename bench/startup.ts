/**
 * Time from load() to ready for 50 exec plugins that each need 200 ms to start (their handshake
 * comes 200 ms after the process starts), beside the sum of their start times: what a serial
 * start would cost. Each plugin is a real child process (Node running a small fixture).
 * Run: npm run bench -- startup
 */
import { Manager } from '../src/index.js';
import { median, printTable } from './stats.js';

// Two plugin programs: a Node one and a Python one (Python starts in ~20 ms, Node in ~50 ms of
// CPU, which on 2 cores bounds how fast 50 Node children can start whatever the manager does).
const PLUGIN_PROGRAMS = {
  node: [process.execPath, new URL('../test/fixtures/health-plugin.mjs', import.meta.url).pathname],
  python: ['python3', new URL('../test/fixtures/health_plugin.py', import.meta.url).pathname],
} as const;
const PLUGINS = Number(process.env.BENCH_PLUGINS ?? 50);
const START_MS = 200;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function once(program: keyof typeof PLUGIN_PROGRAMS, concurrency: number): Promise<number> {
  const [executable, script] = PLUGIN_PROGRAMS[program];
  const manager = new Manager();
  const started = performance.now();
  const loading = manager.load({
    startupConcurrency: concurrency,
    plugins: Array.from({ length: PLUGINS }, (_, i) => ({
      name: `p${i}`,
      transport: 'exec',
      executable,
      args: [script],
      env: [`START_MS=${START_MS}`],
      healthCheck: { interval: '30s' },
    })),
  });
  await manager.whenReady({ timeoutMs: 60_000 });
  const ms = performance.now() - started;
  await loading;
  const ready = manager.readiness().initial.ready;
  if (ready !== PLUGINS) throw new Error(`only ${ready} of ${PLUGINS} plugins started`);
  await manager.shutdown();
  return ms;
}

const rows = [];
for (const [program, concurrency] of [
  ['node', 8],
  ['node', 50],
  ['python', 8],
  ['python', 50],
] as const) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await once(program, concurrency));
  rows.push({
    'plugin program': program,
    startupConcurrency: concurrency,
    'load() → ready, ms (median)': median(times).toFixed(0),
    'sum of start times, ms': PLUGINS * START_MS,
  });
}
printTable(`${PLUGINS} exec plugins, each ${START_MS} ms to start (Node ${process.version})`, rows);
