/**
 * Throughput and latency of each transport at 64 calls in flight, through the manager and
 * through a bare client on the same loopback server, so that the manager's cost shows as a ratio:
 * - http: manager vs a bare undici `Pool`, both with 64 connections (`connection.maxConnections`);
 * - grpc: manager vs a bare grpc-js `Client` (one channel each) using the same serializers;
 * - unix: manager (pool of up to 64 sockets) vs 64 bare `net` sockets writing NDJSON envelopes;
 * - exec: manager vs the same child spawned by hand, NDJSON on its stdin/stdout.
 * Goal: the manager keeps at least 90% of the bare client's throughput; Unix and exec beat HTTP.
 * A third side, `plugin` (off by default), calls the manager's own transport plugin directly,
 * without the pipeline: it splits the manager's added cost between transport and pipeline.
 *
 * The HTTP, gRPC and Unix servers are `examples/plugins/serve.ts` in their own processes; the exec
 * plugin is `examples/plugins/stdio-plugin.ts`. Retries, breaker and health checks are at their
 * defaults. For each transport: a checked call, a warm-up, then RUNS timed runs of CALLS calls
 * from a fixed pool of CONCURRENCY workers, bare and manager runs alternating; the table shows
 * the median run (throughput, and the median of the runs' p50 and p99), each run's throughput,
 * and the CPU time the host process spent per call: the servers run in other processes, so that
 * column is the client side's own cost, and it stays readable on a machine busy with other work
 * (where throughput ratios are noisy).
 *
 * Run: npm run bench -- transports   (or node --loader ts-node/esm --no-warnings bench/transports.ts)
 * Env: BENCH_CALLS (20000), BENCH_RUNS (3), BENCH_WARMUP (2000), BENCH_CONCURRENCY (64),
 *      BENCH_TRANSPORTS (http,grpc,unix,exec: any subset, comma-separated),
 *      BENCH_ONLY (raw, plugin or manager: run one side only, e.g. under --cpu-prof),
 *      BENCH_SIDES (which sides, comma-separated: raw,manager by default; raw,plugin,manager),
 *      BENCH_SERVER (minimal: HTTP, Unix and exec against bench/transports/minimal.mjs),
 *      BENCH_CONNECTIONS (64: HTTP pool size and Unix sockets, both sides), BENCH_MANAGER_CONNECTIONS
 *      (the manager's own `maxConnections` when it should differ, e.g. 10, its default).
 * Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof --loader ts-node/esm --no-warnings \
 *   bench/transports.ts, then bench/transports/profile-summary.ts on the main thread's profile
 *   (`CPU.*.0.001.cpuprofile`; the other one is ts-node's loader thread).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manager } from '../src/index.js';
import type { TextRequest, TextResponse } from '../examples/plugins/text-tools.js';
import { median, percentile, printTable } from './stats.js';
import { runLoad, type LoadRun } from './transports/load.js';
import { DirectPlugin, type DirectFields } from './transports/direct.js';
import { RawExec, RawGrpc, RawHttp, RawUnix, type RawClient } from './transports/raw.js';
import {
  MINIMAL_SCRIPT,
  ROOT,
  TS_NODE_ARGS,
  TS_NODE_ENV,
  startServer,
} from './transports/servers.js';
import type { ServerProcess } from './transports/servers.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
/**
 * HTTP pool size and Unix socket count, the same for the manager and the bare client
 * (BENCH_CONNECTIONS, default 64; 10 is the manager's default `maxConnections`).
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
/**
 * The manager's `maxConnections` (and its transport plugin's, the `plugin` side) when it should
 * differ from the bare client's (default: the same).
 */
const MANAGER_CONNECTIONS = Number(process.env.BENCH_MANAGER_CONNECTIONS ?? CONNECTIONS);
const GOAL_RATIO = 0.9;
type Side = 'raw' | 'plugin' | 'manager';
const ALL_SIDES: Side[] = ['raw', 'plugin', 'manager'];
/** BENCH_ONLY=raw|plugin|manager runs one side only (to profile it alone); BENCH_SIDES picks. */
const SIDES: Side[] = (process.env.BENCH_ONLY ?? process.env.BENCH_SIDES ?? 'raw,manager')
  .split(',')
  .map((side) => side.trim())
  .filter((side): side is Side => (ALL_SIDES as string[]).includes(side))
  .sort((a, b) => ALL_SIDES.indexOf(a) - ALL_SIDES.indexOf(b));

type Transport = 'http' | 'grpc' | 'unix' | 'exec';
const ALL: Transport[] = ['http', 'grpc', 'unix', 'exec'];
const selected = (process.env.BENCH_TRANSPORTS ?? ALL.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter((name): name is Transport => (ALL as string[]).includes(name));

const REQUEST: TextRequest = { op: 'upper', text: 'hello plugwire' };
/**
 * BENCH_SERVER=minimal: HTTP, Unix and exec talk to the minimal hand-written server
 * (bench/transports/minimal.mjs, plain Node) instead of the SDK's text-tools plugin, so that the
 * server is never the bottleneck and the ratio shows the client side's full cost. gRPC keeps
 * the SDK server.
 */
const MINIMAL = process.env.BENCH_SERVER === 'minimal';
const EXEC_SCRIPT = MINIMAL ? MINIMAL_SCRIPT : 'examples/plugins/stdio-plugin.ts';

const CLIENTS: Record<Exclude<Side, 'raw'>, string> = {
  plugin: 'transport plugin, no pipeline',
  manager: 'manager.execute()',
};

const BASELINES: Record<Transport, string> = {
  http: `bare undici Pool (${CONNECTIONS} conns)`,
  grpc: 'bare grpc-js Client',
  unix: `bare net sockets (${CONNECTIONS})`,
  exec: 'bare child stdin/stdout',
};

/** The median run of a series. */
interface Summary {
  callsPerSecond: number;
  p50: number;
  p99: number;
  /** Each run's throughput, in run order. */
  runs: number[];
  cpuMicrosPerCall: number;
  childCpuMicrosPerCall: number;
  errors: number;
  firstError: unknown;
}

function summarise(runs: LoadRun[]): Summary {
  const errors = runs.reduce((sum, run) => sum + run.errors, 0);
  const samples = runs.map((run) => Array.from(run.latenciesMs));
  const throughputs = runs.map((run) => run.latenciesMs.length / run.seconds);
  return {
    callsPerSecond: median(throughputs),
    runs: throughputs,
    cpuMicrosPerCall: median(runs.map((run) => run.cpuMicrosPerCall)),
    childCpuMicrosPerCall: median(runs.map((run) => run.childCpuMicrosPerCall)),
    p50: median(samples.map((s) => percentile(s, 0.5))),
    p99: median(samples.map((s) => percentile(s, 0.99))),
    errors,
    firstError: runs.find((run) => run.errors > 0)?.firstError,
  };
}

/** The median over rounds of `side`'s throughput over the bare client's in the same round. */
function pairedRatio(side: Summary, raw: Summary): number {
  return median(side.runs.map((run, i) => run / raw.runs[i]!));
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

function assertReply(reply: unknown, who: string): void {
  if ((reply as Partial<TextResponse> | undefined)?.result !== 'HELLO PLUGWIRE') {
    throw new Error(`${who} answered ${JSON.stringify(reply)}`);
  }
}

async function compare(
  manager: Manager<TextRequest, TextResponse>,
  transport: Transport,
  raw: RawClient | undefined,
  direct: RawClient | undefined,
): Promise<Partial<Record<Side, Summary>>> {
  const clients: Record<Side, () => Promise<unknown>> = {
    raw: () => raw!.call(REQUEST),
    plugin: () => direct!.call(REQUEST),
    manager: () => manager.execute(transport, REQUEST),
  };
  for (const side of SIDES) assertReply(await clients[side](), `${transport} ${side}`);
  for (const side of SIDES) await runLoad(WARMUP, CONCURRENCY, clients[side]);
  const runs: Record<Side, LoadRun[]> = { raw: [], plugin: [], manager: [] };
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so that drift (GC, CPU frequency) does not favour one side.
    for (const side of i % 2 === 0 ? SIDES : [...SIDES].reverse()) {
      runs[side].push(await runLoad(CALLS, CONCURRENCY, clients[side]));
    }
  }
  const summaries: Partial<Record<Side, Summary>> = {};
  for (const side of SIDES) summaries[side] = summarise(runs[side]);
  return summaries;
}

const dir = await mkdtemp(join(tmpdir(), 'pw-bench-'));
const servers: ServerProcess[] = [];
const raws: RawClient[] = [];
const manager = new Manager<TextRequest, TextResponse>();
try {
  const endpoints = new Map<Transport, string>();
  const started = await Promise.allSettled(
    selected
      .filter((t): t is 'http' | 'grpc' | 'unix' => t !== 'exec')
      .map(async (transport) => {
        const server = await startServer(
          transport,
          transport === 'unix' ? join(dir, 'text.sock') : undefined,
          MINIMAL && transport !== 'grpc',
        );
        servers.push(server);
        endpoints.set(transport, server.endpoint);
      }),
  );
  for (const result of started) if (result.status === 'rejected') throw result.reason;

  const connection = { maxConnections: MANAGER_CONNECTIONS };
  // The same config for the manager and for the plugin side.
  const fields = (transport: Transport): DirectFields =>
    transport === 'exec'
      ? {
          name: 'exec',
          transport: 'exec',
          executable: process.execPath,
          args: MINIMAL ? [EXEC_SCRIPT, 'stdio'] : [...TS_NODE_ARGS, EXEC_SCRIPT],
          env: MINIMAL ? [] : [TS_NODE_ENV],
          workDir: ROOT,
          startup: { timeout: 20_000 },
          connection,
        }
      : { name: transport, transport, endpoint: endpoints.get(transport)!, connection };
  const loaded = await manager.load({ plugins: selected.map(fields) });
  for (const plugin of loaded.plugins) {
    if (plugin.state !== 'ready')
      throw new Error(`${plugin.name}: ${plugin.state} ${plugin.error}`);
  }

  const rows: Array<Record<string, string | number>> = [];
  const reached = new Map<Transport, number>();
  const goals: string[] = [];
  for (const transport of selected) {
    const endpoint = endpoints.get(transport)!;
    let raw: RawClient | undefined;
    if (SIDES.includes('raw')) {
      raw =
        transport === 'http'
          ? new RawHttp(endpoint, CONNECTIONS)
          : transport === 'grpc'
            ? new RawGrpc(endpoint)
            : transport === 'unix'
              ? await RawUnix.connect(endpoint, CONNECTIONS)
              : await RawExec.spawn(EXEC_SCRIPT);
      raws.push(raw);
    }
    let direct: RawClient | undefined;
    if (SIDES.includes('plugin')) {
      direct = await DirectPlugin.start(fields(transport));
      raws.push(direct);
    }
    const result = await compare(manager, transport, raw, direct);
    // Each round's manager run against the bare run next to it, then the median: on a shared
    // machine the load moves between rounds, much less within one.
    const ratio =
      result.raw && result.manager ? pairedRatio(result.manager, result.raw) : undefined;
    if (result.manager) reached.set(transport, result.manager.callsPerSecond);
    for (const side of SIDES) {
      const summary = result[side]!;
      const client = side === 'raw' ? BASELINES[transport] : CLIENTS[side];
      rows.push({
        transport,
        client,
        'calls/s': Math.round(summary.callsPerSecond).toLocaleString('en-US'),
        'p50 ms': summary.p50.toFixed(2),
        'p99 ms': summary.p99.toFixed(2),
        // The plugin side's ratio shows what the transport alone keeps.
        'manager/raw':
          side !== 'raw' && result.raw
            ? percent(summary.callsPerSecond / result.raw.callsPerSecond)
            : '',
        'paired rounds, median':
          side !== 'raw' && result.raw ? percent(pairedRatio(summary, result.raw)) : '',
        'host CPU µs/call': summary.cpuMicrosPerCall.toFixed(1),
        'server CPU µs/call': summary.childCpuMicrosPerCall.toFixed(1),
        'runs (k calls/s)': summary.runs.map((r) => (r / 1_000).toFixed(1)).join(' / '),
        errors: summary.errors,
      });
      if (summary.errors > 0) {
        console.error(`${transport} ${client}: first error:`, summary.firstError);
      }
    }
    if (ratio !== undefined) {
      goals.push(
        `- ${transport}: manager at ${percent(ratio)} of the bare client, paired rounds (goal ≥ ${percent(GOAL_RATIO)}): ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`,
      );
    }
  }

  printTable(
    `Transports at ${CONCURRENCY} calls in flight, ${CONNECTIONS} connections${MANAGER_CONNECTIONS === CONNECTIONS ? '' : ` (the manager and its transport plugin: ${MANAGER_CONNECTIONS})`}${MINIMAL ? ', HTTP/Unix/exec against the minimal server' : ''} (Node ${process.version}, ${cpus().length} CPUs, ` +
      `${CALLS.toLocaleString('en-US')} calls x ${RUNS} runs, median run)`,
    rows,
  );
  const http = reached.get('http');
  if (http !== undefined) {
    for (const transport of ['unix', 'exec'] as const) {
      const other = reached.get(transport);
      if (other === undefined) continue;
      goals.push(
        `- ${transport} through the manager at ${(other / http).toFixed(2)}x HTTP's throughput (goal > 1): ${other > http ? 'met' : 'NOT met'}`,
      );
    }
  }
  console.log(`\n${goals.join('\n')}`);
} finally {
  await manager.shutdown({ timeoutMs: 2_000 });
  await Promise.all(raws.map((raw) => raw.close()));
  await Promise.all(servers.map((server) => server.stop()));
  await rm(dir, { recursive: true, force: true });
}
