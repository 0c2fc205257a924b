/**
 * Overload and the HTTP pool size, against a minimal hand-written node:http plugin
 * (bench/overload/server.mjs, in its own process).
 *
 * 1. 10,000 calls at once to one plugin that answers in 100 ms, default policies
 *    (`maxConnections` 10, `requestTimeout` 30 s): with an unbounded queue (`maxPending` set
 *    out of reach, as before the bound existed) and with the default `maxPending`. How many
 *    succeed, and how long the others take to fail.
 * 2. The default `maxConnections`: 64 and 16 calls in flight to the same server answering at
 *    once, through the manager with maxConnections 10 / 16 / 32 / 64 and through bare undici
 *    Pools of 64 and 10 connections, in rotated rounds; throughput paired with the bare Pool
 *    (64) round by round, p99 and host CPU per call.
 *
 * Run: npm run bench -- overload   Env: BENCH_PART (1,2), BENCH_CALLS (10000, part 1),
 * BENCH_ROUNDS (7) and BENCH_ROUND_CALLS (5000) and BENCH_IN_FLIGHT (64,16) for part 2
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
const PARTS = process.env.BENCH_PART ?? '1,2';
if (PARTS.includes('1')) {
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
}
if (PARTS.includes('2')) {
  // ---------- 2. maxConnections at 16 and 64 in flight ----------
  const fast = await startServer(0);
  const url = new URL(fast.endpoint);
  const pools = new Map<number, Pool>();
  const bare = async (pool: Pool, n: number): Promise<unknown> => {
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
  for (const size of sizes) {
    managers.set(size, await manager(fast.endpoint, { maxConnections: size }));
    pools.set(size, new Pool(url.origin, { connections: size }));
  }
  const sides: Array<[string, () => Promise<unknown>]> = [
    ['bare undici Pool (64)', () => bare(pools.get(64)!, 1)],
    ['bare undici Pool (10)', () => bare(pools.get(10)!, 1)],
    ...sizes.map((size): [string, () => Promise<unknown>] => [
      `manager, maxConnections ${size}${size === DEFAULT_POLICY.connection.maxConnections ? ' (default)' : ''}`,
      () => managers.get(size)!.execute('slow', 1),
    ]),
  ];
  const ROUND_CALLS = Number(process.env.BENCH_ROUND_CALLS ?? 5_000);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
  for (const inFlight of (process.env.BENCH_IN_FLIGHT ?? '64,16').split(',').map(Number)) {
    for (const [, call] of sides) await runLoad(2_000, inFlight, call); // warm-up
    // Rounds: every side once per round, in rotated order, so that each round's ratio to the bare
    // Pool (64) compares runs made within seconds of each other (the machine's load moves).
    const results = new Map<
      string,
      Array<{ rate: number; cpu: number; p99: number; errors: number }>
    >();
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < sides.length; i++) {
        const [name, call] = sides[(i + round) % sides.length]!;
        const r = await runLoad(ROUND_CALLS, inFlight, call);
        const list = results.get(name) ?? [];
        list.push({
          rate: ROUND_CALLS / r.seconds,
          cpu: r.cpuMicrosPerCall,
          p99: percentile(Array.from(r.latenciesMs), 0.99),
          errors: r.errors,
        });
        results.set(name, list);
      }
    }
    const bareRuns = results.get(sides[0]![0])!;
    printTable(
      `${inFlight} calls in flight to a minimal HTTP server answering at once; ${ROUNDS} rounds × ${ROUND_CALLS} calls, medians; paired = median of each round's ratio to the bare Pool (64)`,
      sides.map(([name]) => {
        const list = results.get(name)!;
        return {
          client: name,
          'k calls/s': (median(list.map((r) => r.rate)) / 1000).toFixed(1),
          'paired vs bare (64)': `${(100 * median(list.map((r, i) => r.rate / bareRuns[i]!.rate))).toFixed(1)}%`,
          'p99 ms': median(list.map((r) => r.p99)).toFixed(2),
          'host CPU µs/call': median(list.map((r) => r.cpu)).toFixed(1),
          errors: list.reduce((sum, r) => sum + r.errors, 0),
        };
      }),
    );
  }
  for (const m of managers.values()) await m.shutdown();
  for (const pool of pools.values()) await pool.close();
  fast.stop();
}
