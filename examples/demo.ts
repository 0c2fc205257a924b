/**
 * plugwire demo: one plugin per transport (HTTP, gRPC, Unix socket, exec), one manager, one API.
 * It calls each plugin, then kills plugins under load and shows the manager coping.
 *
 * Run: npm run demo
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager, isPluginError } from '../src/index.js';
import type { TextRequest, TextResponse } from './plugins/text-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'plugwire-demo-'));
const children = new Set<ChildProcess>();
const say = (line = ''): void => console.log(line);
const ms = (since: number): string => `${(performance.now() - since).toFixed(1)} ms`;

/** Starts examples/plugins/serve.ts for one transport and waits for its endpoint line. */
async function startServer(transport: string, env: Record<string, string> = {}) {
  const args = ['--loader', 'ts-node/esm', '--no-warnings', 'examples/plugins/serve.ts', transport];
  if (transport === 'unix') args.push(join(dir, 'text.sock'));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', ...env },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { endpoint } = JSON.parse(line) as { endpoint: string };
  return { child, endpoint, port: endpoint.match(/:(\d+)/)?.[1] ?? '' };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

const manager = new Manager<TextRequest, TextResponse>();
const events: string[] = [];
manager.on('circuit-open', (e) => events.push(`circuit of ${e.plugin} opened`));
manager.on('circuit-close', (e) => events.push(`circuit of ${e.plugin} closed again`));
manager.on('plugin-state', (e) => {
  if (e.to === 'ready' || e.to === 'failed') events.push(`${e.plugin}: ${e.from} → ${e.to}`);
});

try {
  say('plugwire demo: one manager, four transports\n');
  let t = performance.now();
  const [http, grpc, unix] = await Promise.all([
    startServer('http'),
    startServer('grpc'),
    startServer('unix'),
  ]);
  say(`Started plugin servers in ${ms(t)}:`);
  say(`  http  ${http.endpoint}  (pid ${http.child.pid})`);
  say(`  grpc  ${grpc.endpoint}  (pid ${grpc.child.pid})`);
  say(`  unix  ${unix.endpoint}  (pid ${unix.child.pid})`);
  say('  exec  spawned and supervised by the manager itself');

  process.env.DEMO_HTTP_ENDPOINT = http.endpoint;
  process.env.DEMO_GRPC_ENDPOINT = grpc.endpoint;
  process.env.DEMO_UNIX_SOCKET = unix.endpoint;
  process.env.DEMO_NODE = process.execPath;
  t = performance.now();
  const loaded = await manager.load('examples/demo.yaml');
  say(`\nLoaded examples/demo.yaml in ${ms(t)}:`);
  for (const p of loaded.plugins)
    say(`  ${p.name.padEnd(10)} ${p.state} after ${p.attempts} attempt(s)`);

  say('\nOne call through each transport:');
  for (const name of ['text-http', 'text-grpc', 'text-unix', 'text-exec']) {
    t = performance.now();
    const reply = await manager.execute(name, { op: 'upper', text: `hello via ${name}` });
    say(
      `  ${name.padEnd(10)} → ${String(reply.result).padEnd(22)} ${ms(t).padStart(9)}  (${reply.servedBy})`,
    );
  }
  const no = await manager.execute('text-grpc', { op: 'upper', text: '' }).catch((e: unknown) => e);
  if (isPluginError(no))
    say(`  the plugin's own "no": ${no.code} "${no.message}" (returned, not retried)`);

  say('\nChaos 1: kill -9 the HTTP plugin while calls flow, then bring it back on the same port.');
  say("  Calls go to 'text-http' by name, and to the group 'text' (http + grpc + unix, p2c).");
  const outcomes = new Map<string, number>();
  const groupOutcomes = new Map<string, number>();
  const count = (into: Map<string, number>, key: string): void =>
    void into.set(key, (into.get(key) ?? 0) + 1);
  let running = true;
  const calls = (target: string, into: Map<string, number>) =>
    (async () => {
      while (running) {
        await manager
          .execute(target, { op: 'words', text: 'keep calling' }, { timeoutMs: 1_000 })
          .then(() => count(into, 'ok'))
          .catch((e: unknown) => count(into, isPluginError(e) ? e.code : 'other'));
        await sleep(10);
      }
    })();
  const load = Promise.all([calls('text-http', outcomes), calls('text', groupOutcomes)]);
  await sleep(200);
  await stop(http.child, 'SIGKILL');
  say('  killed; calls now fail, are retried, then the breaker fails them fast');
  await sleep(1_000);
  const revived = await startServer('http', { PORT: http.port });
  say(`  restarted at ${revived.endpoint}; the breaker probes it and closes`);
  await sleep(2_500);
  running = false;
  await load;
  const summary = (m: Map<string, number>): string =>
    [...m].map(([k, v]) => `${k} × ${v}`).join(', ');
  say(`  calls to text-http: ${summary(outcomes)}`);
  say(`  calls to the group: ${summary(groupOutcomes)}  (failover: the other instances answered)`);

  say(
    '\nChaos 2: kill -9 the exec child; the supervisor restarts it and a retried call goes through.',
  );
  const before = await manager.execute('text-exec', { op: 'upper', text: 'before' });
  process.kill(Number(before.servedBy.split('pid ')[1]), 'SIGKILL');
  t = performance.now();
  const after = await manager.execute(
    'text-exec',
    { op: 'upper', text: 'after' },
    { timeoutMs: 20_000 },
  );
  say(`  ${before.servedBy} → ${after.servedBy}, call answered in ${ms(t)}`);

  say('\nHot reload: the same file, with DEMO_GRPC_ENABLED=false in the environment.');
  process.env.DEMO_GRPC_ENABLED = 'false';
  const reload = await manager.reload('examples/demo.yaml');
  say(
    `  applied in place: ${reload.applied.join(', ')} (${reload.diff.updated[0]?.changes.join(', ')})`,
  );
  const served = new Set<string>();
  for (let i = 0; i < 12; i++)
    served.add((await manager.execute('text', { op: 'upper', text: 'x' })).servedBy.split(' ')[0]!);
  say(`  the group now answers from: ${[...served].sort().join(', ')}`);

  say('\nEvents seen:');
  for (const line of events) say(`  ${line}`);

  const { global, plugins } = manager.metrics();
  say('\nSummary:');
  say(
    `  calls ${global.total}: ok ${global.success}, application errors ${global.applicationError}, failed ${global.failure}, retries ${global.retries}`,
  );
  say(`  latency p50 ${global.latency.p50.toFixed(2)} ms, p99 ${global.latency.p99.toFixed(2)} ms`);
  for (const [name, s] of Object.entries(plugins)) {
    say(
      `  ${name.padEnd(10)} attempts ${String(s.total).padStart(4)}  ok ${String(s.success).padStart(4)}  failed ${String(s.failure).padStart(3)}  breaker-rejected ${s.circuitRejected}`,
    );
  }
} finally {
  await manager.shutdown({ timeoutMs: 2_000 });
  await Promise.all([...children].map((child) => stop(child)));
  rmSync(dir, { recursive: true, force: true });
}
say('\nShut down: plugins closed, child processes gone.');
