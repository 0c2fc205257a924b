/**
 * Time from load() to ready for 50 exec plugins that each need 200 ms to start (their handshake
 * comes 200 ms after the process starts), beside the sum of their start times: what a serial
 * start would cost. Each plugin is a real child process (Node running a small fixture).
 * Run: npm run bench -- startup   Env: BENCH_PLUGIN (sdk: plugins written with serveStdio),
 * BENCH_RUNS (3), BENCH_CONCURRENCIES (8,32,50), BENCH_SDK_ENTRY (with sdk: another build's
 * sdk/index.js, an absolute path). The bare spawns get the environment the manager gives its
 * children (`childEnv`: PATH and the configured entries, nothing else inherited).
 */
import { spawn, spawnSync } from 'node:child_process';
import { Manager } from '../src/index.js';
import { childEnv } from '../src/transport/exec/env.js';
import { median, printTable } from './stats.js';

// The plugin program: Node running a small fixture. Spawning it costs the host ~10 ms of CPU
// (fork of a large process) and the child ~40 ms, which on 2 cores bounds how fast 50 of them
// can start whatever the manager does.
// BENCH_PLUGIN=sdk: the same plugin written with serveStdio (bench/startup-sdk-plugin.mjs, from
// dist/, built first).
const SDK = process.env.BENCH_PLUGIN === 'sdk';
const FIXTURE = SDK
  ? new URL('./startup-sdk-plugin.mjs', import.meta.url).pathname
  : new URL('../test/fixtures/health-plugin.mjs', import.meta.url).pathname;
if (SDK) {
  const root = new URL('../', import.meta.url).pathname;
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('build failed');
}
const ENTRY_ENV = process.env.BENCH_SDK_ENTRY
  ? [`BENCH_SDK_ENTRY=${process.env.BENCH_SDK_ENTRY}`]
  : [];
const PLUGINS = Number(process.env.BENCH_PLUGINS ?? 50);
const START_MS = 200;
const CHILD_ENV = [`START_MS=${START_MS}`, ...ENTRY_ENV];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function once(concurrency: number): Promise<number> {
  const manager = new Manager();
  const started = performance.now();
  const loading = manager.load({
    startupConcurrency: concurrency,
    plugins: Array.from({ length: PLUGINS }, (_, i) => ({
      name: `p${i}`,
      transport: 'exec',
      executable: process.execPath,
      args: [FIXTURE],
      env: CHILD_ENV,
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

/**
 * The limit: the same children spawned bare (no plugwire, all at once), timed until each has
 * written its handshake line. What spawning 50 Node processes costs this machine.
 */
async function bare(): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: PLUGINS },
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [FIXTURE], {
            env: childEnv(CHILD_ENV),
            stdio: ['pipe', 'pipe', 'inherit'],
          });
          child.once('error', reject);
          child.stdout.once('data', () => {
            resolve();
            child.stdin.end();
          });
        }),
    ),
  );
  return performance.now() - started;
}

const rows = [];
{
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await bare());
  rows.push({
    startupConcurrency: 'bare spawns, no plugwire (the limit)',
    'load() → ready, ms (median)': median(times).toFixed(0),
    'sum of start times, ms': PLUGINS * START_MS,
  });
}
const CONCURRENCIES = (process.env.BENCH_CONCURRENCIES ?? '8,32,50').split(',').map(Number);
for (const concurrency of CONCURRENCIES) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await once(concurrency));
  rows.push({
    startupConcurrency: concurrency === 32 ? '32 (default)' : concurrency,
    'load() → ready, ms (median)': median(times).toFixed(0),
    'sum of start times, ms': PLUGINS * START_MS,
  });
}
printTable(
  `${PLUGINS} ${SDK ? 'serveStdio' : 'hand-written'} exec plugins, each ${START_MS} ms to start (Node ${process.version}${SDK && process.env.BENCH_SDK_ENTRY ? `, SDK from ${process.env.BENCH_SDK_ENTRY}` : ''})`,
  rows,
);
