/**
 * The SDK's servers against a minimal hand-written server, with the same bare client: what
 * `serveUnix`, `serveStdio`, `serveHttp` and `serveGrpc` cost a plugin beside the least a server
 * can do.
 * - SDK: bench/transports/sdk-server.mjs, `serveUnix`/`serveStdio`/`serveHttp`/`serveGrpc` from
 *   the built package (dist/, built first) with the hand-written server's handler;
 * - hand-written: bench/transports/minimal.mjs (plain Node, the same reply) for Unix, exec and
 *   HTTP; bench/transports/minimal-grpc.ts (a plain grpc-js `Server` with the transport's
 *   serializers) for gRPC;
 * - client: the bare clients of the transport benchmark (bench/transports/raw.ts), no plugwire.
 * Rounds alternate SDK and hand-written runs; the table gives the median run, the median of
 * each round's SDK/hand-written ratio, and CPU per call of the client (host, median of the
 * rounds) and of the server process (/proc, whose 10 ms ticks are too coarse for one round:
 * the mean over all rounds), the figure that holds on a busy machine.
 * Many short rounds rather than a few long ones: on a shared machine, a round's neighbour runs
 * under nearly the same load, so the median of many paired ratios settles where a few do not.
 * Goal: every SDK server at ≥ 90% of the hand-written server's throughput.
 *
 * Run: npm run bench -- sdk-servers
 * Env: BENCH_CALLS (5000), BENCH_RUNS (21), BENCH_WARMUP (2000), BENCH_CONCURRENCY (64),
 *      BENCH_TRANSPORTS (unix,exec,http,grpc),
 *      BENCH_SERVER_PROFILE (a directory: each server writes its CPU profile into
 *      <dir>/<transport>-<sdk|hand-written>/; summarise with bench/transports/profile-summary.ts)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, printTable } from './stats.js';
import { runLoad, type LoadRun } from './transports/load.js';
import { RawExec, RawGrpc, RawHttp, RawUnix, type RawClient } from './transports/raw.js';
import { spawnSync } from 'node:child_process';
import {
  MINIMAL_GRPC_SCRIPT,
  MINIMAL_SCRIPT,
  ROOT,
  SDK_SCRIPT,
  serverProfileArgs,
  startServer,
  type ServerProcess,
} from './transports/servers.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 5_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const CONNECTIONS = 64;
const GOAL = 0.9;
type Transport = 'unix' | 'exec' | 'http' | 'grpc';
const selected = (process.env.BENCH_TRANSPORTS ?? 'unix,exec,http,grpc')
  .split(',')
  .map((t) => t.trim())
  .filter((t): t is Transport => ['unix', 'exec', 'http', 'grpc'].includes(t));
const REQUEST = { op: 'upper', text: 'hello plugwire' };

async function client(
  transport: Transport,
  sdk: boolean,
  dir: string,
  servers: ServerProcess[],
): Promise<RawClient> {
  const nodeArgs = serverProfileArgs(`${transport}-${sdk ? 'sdk' : 'hand-written'}`);
  if (transport === 'exec') {
    return RawExec.spawn(sdk ? SDK_SCRIPT : MINIMAL_SCRIPT, nodeArgs);
  }
  const server = await startServer(
    transport,
    transport === 'unix' ? join(dir, `${sdk ? 'sdk' : 'minimal'}.sock`) : undefined,
    sdk ? SDK_SCRIPT : transport === 'grpc' ? MINIMAL_GRPC_SCRIPT : MINIMAL_SCRIPT,
    nodeArgs,
  );
  servers.push(server);
  if (transport === 'grpc') return new RawGrpc(server.endpoint);
  return transport === 'unix'
    ? RawUnix.connect(server.endpoint, CONNECTIONS)
    : new RawHttp(server.endpoint, CONNECTIONS);
}

const build = spawnSync(process.execPath, ['scripts/build.mjs'], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (build.status !== 0) throw new Error('build failed');

const dir = await mkdtemp(join(tmpdir(), 'pw-sdk-bench-'));
const servers: ServerProcess[] = [];
const clients: RawClient[] = [];
const rows: Array<Record<string, string | number>> = [];
const goals: string[] = [];
try {
  for (const transport of selected) {
    const sdk = await client(transport, true, dir, servers);
    const minimal = await client(transport, false, dir, servers);
    clients.push(sdk, minimal);
    for (const side of [sdk, minimal]) {
      const reply = (await side.call(REQUEST)) as { result?: unknown };
      if (reply?.result !== 'HELLO PLUGWIRE')
        throw new Error(`${transport}: ${JSON.stringify(reply)}`);
      await runLoad(WARMUP, CONCURRENCY, () => side.call(REQUEST));
    }
    const runs: Record<'sdk' | 'minimal', LoadRun[]> = { sdk: [], minimal: [] };
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? (['sdk', 'minimal'] as const) : (['minimal', 'sdk'] as const);
      for (const side of order) {
        const target = side === 'sdk' ? sdk : minimal;
        runs[side].push(await runLoad(CALLS, CONCURRENCY, () => target.call(REQUEST)));
      }
    }
    const throughput = (run: LoadRun): number => run.latenciesMs.length / run.seconds;
    const paired = median(runs.sdk.map((run, i) => throughput(run) / throughput(runs.minimal[i]!)));
    for (const side of ['minimal', 'sdk'] as const) {
      const series = runs[side];
      const errors = series.reduce((sum, run) => sum + run.errors, 0);
      rows.push({
        transport,
        server:
          side === 'sdk'
            ? 'SDK (sdk-server.mjs)'
            : `hand-written (${transport === 'grpc' ? 'minimal-grpc.ts' : 'minimal.mjs'})`,
        'calls/s': Math.round(median(series.map(throughput))).toLocaleString('en-US'),
        'SDK / hand-written, paired rounds': side === 'sdk' ? `${(paired * 100).toFixed(1)}%` : '',
        'server CPU µs/call': (
          series.reduce((sum, run) => sum + run.childCpuMicrosPerCall, 0) / series.length
        ).toFixed(1),
        'client CPU µs/call': median(series.map((run) => run.cpuMicrosPerCall)).toFixed(1),
        errors,
      });
    }
    goals.push(
      `- ${transport}: SDK server at ${(paired * 100).toFixed(1)}% of the hand-written one (goal ≥ ${GOAL * 100}%): ${paired >= GOAL ? 'met' : 'NOT met'}`,
    );
  }
  printTable(
    `SDK servers vs a hand-written server, same bare client, ${CONCURRENCY} in flight (Node ${process.version}, ${cpus().length} CPUs, ${CALLS} calls x ${RUNS} rounds)`,
    rows,
  );
  console.log(`\n${goals.join('\n')}`);
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
}
