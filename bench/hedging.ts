/**
 * Hedging against a slow tail (issue 13): a group of 3 HTTP plugins (node:http, hand-written
 * here) answering in 2 ms, except 5% of requests that take 200 ms. The same calls run through a
 * group without hedging and one with `hedging: { delay, maxHedges: 1 }`, in alternating rounds
 * in one process; reported: mean, p50, p99 and p99.9 of the call latency, and the extra load
 * (requests the servers received per call, minus 1).
 *
 * Run: npm run bench -- hedging   (BENCH_CALLS, BENCH_ROUNDS, BENCH_CONCURRENCY, BENCH_DELAY_MS)
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager } from '../src/index.js';
import { percentile, printTable } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 4_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 10);
const FAST_MS = 2;
const SLOW_MS = 200;
const SLOW_SHARE = 0.05;

let received = 0;

/** A plugin answering in 2 ms, or 200 ms for 5% of requests; an aborted request is dropped. */
async function server(): Promise<{ server: Server; endpoint: string }> {
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received++;
      const wait = Math.random() < SLOW_SHARE ? SLOW_MS : FAST_MS;
      const timer = setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ success: true, data: 'ok' }));
      }, wait);
      res.on('close', () => clearTimeout(timer));
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { server: srv, endpoint: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` };
}

async function run(
  manager: Manager,
  target: string,
): Promise<{ latencies: number[]; extra: number }> {
  const latencies: number[] = [];
  const before = received;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next++;
        const start = performance.now();
        await manager.execute(target, { n: next });
        latencies.push(performance.now() - start);
      }
    }),
  );
  // Let cancelled hedges' requests reach the servers' counts before reading them.
  await sleep(50);
  return { latencies, extra: (received - before) / CALLS - 1 };
}

async function main(): Promise<void> {
  const servers = await Promise.all([server(), server(), server()]);
  const manager = new Manager();
  const member = (group: string) => (s: { endpoint: string }, i: number) => ({
    name: `${group}-${i}`,
    group,
    transport: 'http',
    endpoint: s.endpoint,
    healthCheck: { enabled: false },
  });
  await manager.load({
    groups: {
      plain: { strategy: 'round-robin', idempotent: true },
      hedged: {
        strategy: 'round-robin',
        idempotent: true,
        hedging: { delay: DELAY_MS, maxHedges: 1 },
      },
    },
    plugins: [...servers.map(member('plain')), ...servers.map(member('hedged'))],
  });
  await run(manager, 'plain'); // warm-up: connections, JIT
  await run(manager, 'hedged');
  const results = { plain: [] as number[], hedged: [] as number[] };
  const extra = { plain: [] as number[], hedged: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const target of r % 2 === 0 ? ['plain', 'hedged'] : ['hedged', 'plain']) {
      const { latencies, extra: e } = await run(manager, target);
      results[target as 'plain'].push(...latencies);
      extra[target as 'plain'].push(e);
    }
  }
  const row = (name: 'plain' | 'hedged') => {
    const l = results[name];
    const mean = l.reduce((a, b) => a + b, 0) / l.length;
    const extraMean = extra[name].reduce((a, b) => a + b, 0) / extra[name].length;
    return {
      group: name === 'plain' ? 'no hedging' : `hedging (delay ${DELAY_MS} ms, maxHedges 1)`,
      calls: l.length,
      'mean ms': mean.toFixed(2),
      'p50 ms': percentile(l, 0.5).toFixed(2),
      'p99 ms': percentile(l, 0.99).toFixed(2),
      'p99.9 ms': percentile(l, 0.999).toFixed(2),
      'extra attempts': `${(extraMean * 100).toFixed(1)}%`,
    };
  };
  const rows = [row('plain'), row('hedged')];
  printTable(
    `Hedging: 3 members, ${FAST_MS} ms or ${SLOW_MS} ms for ${SLOW_SHARE * 100}% of requests, ` +
      `${CONCURRENCY} in flight, ${ROUNDS} rounds of ${CALLS} calls each`,
    rows,
  );
  const ratio = percentile(results.plain, 0.99) / percentile(results.hedged, 0.99);
  console.log(`\np99 without / with hedging: ${ratio.toFixed(1)}x`);
  await manager.shutdown();
  for (const { server: s } of servers) {
    s.closeAllConnections();
    s.close();
  }
}

await main();
