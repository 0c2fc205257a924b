/**
 * Overload and the HTTP pool size, against a minimal hand-written node:http plugin
 * (bench/overload/server.mjs, in its own process).
 *
 * 1. 10,000 calls at once to one plugin that answers in 100 ms, default policies
 *    (`maxConnections` 10, `requestTimeout` 30 s): with an unbounded queue (`maxPending` set
 *    out of reach, as before the bound existed) and with the default `maxPending`. How many
 *    succeed, and how long the others take to fail.
 * 2. The default `maxConnections`: 64 calls in flight to the same server answering at once,
 *    through the manager with maxConnections 10 / 16 / 32 / 64 and through a bare undici Pool
 *    (64 connections) in the same run; throughput and host CPU per call.
 *
 * Run: npm run bench -- overload   Env: BENCH_CALLS (10000), BENCH_RUNS (3)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { Manager, isPluginError } from '../src/index.js';
import { DEFAULT_POLICY } from '../src/config/defaults.js';
import { median, percentile, printTable } from './stats.js';
import { runLoad } from './transports/load.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SERVER = new URL('./overload/server.mjs', import.meta.url).pathname;

async function startServer(delayMs: number): Promise<{ endpoint: string; stop(): void }> {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, DELAY_MS: String(delayMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  lines.close();
  return {
    endpoint: (JSON.parse(line) as { endpoint: string }).endpoint,
    stop: () => void child.kill('SIGTERM'),
  };
}

async function manager(endpoint: string, connection: Record<string, number>) {
  const m = new Manager<number, number>();
  await m.load({
    plugins: [
      { name: 'slow', transport: 'http', endpoint, connection, healthCheck: { interval: '1h' } },
    ],
  });
  return m;
}

// ---------- 1. 10,000 calls at once to a 100 ms plugin ----------
const slow = await startServer(100);
const burstRows = [];
for (const [label, maxPending] of [
  ['unbounded queue (before)', 1e9],
  [
    `maxPending ${DEFAULT_POLICY.connection.maxPending} (default)`,
    DEFAULT_POLICY.connection.maxPending,
  ],
] as const) {
  const m = await manager(slow.endpoint, { maxPending });
  const ok: number[] = [];
  const failed: number[] = [];
  const codes = new Map<string, number>();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CALLS }, async (_, n) => {
      const t = performance.now();
      try {
        await m.execute('slow', n);
        ok.push(performance.now() - t);
      } catch (error) {
        failed.push(performance.now() - t);
        const code = isPluginError(error) ? error.code : String(error);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }),
  );
  const wall = performance.now() - started;
  await m.shutdown();
  burstRows.push({
    queue: label,
    succeeded: ok.length,
    failed: [...codes].map(([code, n]) => `${n} ${code}`).join(', ') || '0',
    'failed after, ms p50 / max': failed.length
      ? `${percentile(failed, 0.5).toFixed(0)} / ${Math.max(...failed).toFixed(0)}`
      : '-',
    'succeeded after, ms p50 / max': ok.length
      ? `${percentile(ok, 0.5).toFixed(0)} / ${Math.max(...ok).toFixed(0)}`
      : '-',
    'all settled, s': (wall / 1000).toFixed(1),
  });
}
slow.stop();
printTable(
  `${CALLS} calls at once to one HTTP plugin answering in 100 ms (maxConnections 10)`,
  burstRows,
);

// ---------- 2. maxConnections at 64 in flight ----------
const fast = await startServer(0);
const url = new URL(fast.endpoint);
const pool = new Pool(url.origin, { connections: 64 });
const bare = async (n: number): Promise<unknown> => {
  const requestId = randomUUID();
  const reply = await pool.request({
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({
      data: n,
      request_id: requestId,
      timeout: '30s',
      headers: {},
      metadata: {},
    }),
  });
  const envelope = (await reply.body.json()) as { data: unknown };
  if (reply.statusCode !== 200) throw new Error(`HTTP ${reply.statusCode}`);
  return envelope.data;
};
const sizes = [10, 16, 32, 64];
const managers = new Map<number, Manager<number, number>>();
for (const size of sizes)
  managers.set(size, await manager(fast.endpoint, { maxConnections: size }));
const sides: Array<[string, () => Promise<unknown>]> = [
  ['bare undici Pool (64)', () => bare(1)],
  ...sizes.map((size): [string, () => Promise<unknown>] => [
    `manager, maxConnections ${size}`,
    () => managers.get(size)!.execute('slow', 1),
  ]),
];
const CALLS_64 = 20_000;
for (const [, call] of sides) await runLoad(2_000, 64, call); // warm-up
const results = new Map<string, Array<{ rate: number; cpu: number; errors: number }>>();
for (let run = 0; run < RUNS; run++) {
  for (const [name, call] of sides) {
    const r = await runLoad(CALLS_64, 64, call);
    const list = results.get(name) ?? [];
    list.push({ rate: CALLS_64 / r.seconds, cpu: r.cpuMicrosPerCall, errors: r.errors });
    results.set(name, list);
  }
}
const bareRate = median(results.get(sides[0]![0])!.map((r) => r.rate));
printTable(
  `64 calls in flight to a minimal HTTP server answering at once; ${CALLS_64} calls × ${RUNS} runs, median`,
  sides.map(([name]) => {
    const list = results.get(name)!;
    const rate = median(list.map((r) => r.rate));
    return {
      client: name,
      'k calls/s': (rate / 1000).toFixed(1),
      'vs bare': `${((100 * rate) / bareRate).toFixed(0)}%`,
      'per run vs bare': list.map((r) => `${((100 * r.rate) / bareRate).toFixed(0)}%`).join(' / '),
      'host CPU µs/call': median(list.map((r) => r.cpu)).toFixed(1),
      errors: list.reduce((sum, r) => sum + r.errors, 0),
    };
  }),
);
for (const m of managers.values()) await m.shutdown();
await pool.close();
fast.stop();
