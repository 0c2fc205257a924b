/**
 * Cluster mode, end to end: a real redis-server (started here, in a temp dir), 3 host processes
 * and 4 plugin instances that announce themselves; while the hosts call, one instance is killed
 * (SIGKILL: no goodbye, its heartbeat just stops) and a fifth one starts. Each host prints what
 * it sees (members joining and leaving, the other hosts' load views); at the end, who served
 * what. Everything it started is stopped and removed when it exits.
 *
 * Run: npm run demo:cluster   (needs redis-server: apt-get install redis-server)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const NAMESPACE = 'demo';
const smoke = process.env.PLUGWIRE_EXAMPLE_SMOKE === '1' || process.argv.includes('--quick');
// Once every host calls: when an instance is killed, and how long calls go on after the new
// instance joined every host (ms).
const KILL_AFTER = smoke ? 1_000 : 2_000;
const AFTER_JOIN = smoke ? 1_000 : 3_000;
const [role, name, redisUrl] = process.argv.slice(2);

if (role === 'instance') await instance(name!, redisUrl!);
else if (role === 'host') await host(name!, redisUrl!);
else await main();

/** A plugin instance: served over HTTP, announced in group `workers`. */
async function instance(id: string, url: string): Promise<void> {
  const { serveHttp } = await import('../../src/sdk/index.js');
  const served = await serveHttp<{ ms: number }, string>(
    async (req) => {
      await sleep(req.ms);
      return id;
    },
    {
      announce: {
        redis: { url },
        namespace: NAMESPACE,
        group: 'workers',
        id,
        interval: 200,
        ttl: 1_000,
      },
    },
  );
  console.log(`ready ${served.endpoint}`);
  process.on('SIGTERM', () => void served.close().then(() => process.exit(0)));
}

/** A host replica: its group `workers` takes its members from Redis; it calls them for RUN_MS. */
async function host(me: string, url: string): Promise<void> {
  const { Manager } = await import('../../src/index.js');
  const manager = new Manager<{ ms: number }, string>();
  const say = (line: string) => console.log(line);
  manager.on('cluster-member', (e) => say(`member ${e.change}: ${e.plugin}`));
  manager.on('cluster-view', (e) => say(`combines the load of ${e.replicas} other host(s)`));
  manager.on('plugin-removed', (e) => say(`member closed after draining: ${e.plugin}`));
  await manager.load({
    cluster: {
      redis: { url },
      namespace: NAMESPACE,
      replicaId: me,
      heartbeatInterval: '200ms',
      replicaTtl: '1s',
      viewInterval: '100ms',
      viewTtl: '1s',
      members: {
        workers: {
          refresh: '200ms',
          template: {
            healthCheck: { interval: '200ms' },
            retry: { maxRetries: 2, initialInterval: '20ms' },
            circuitBreaker: { enabled: true, failureThreshold: 3 },
          },
        },
      },
    },
    // The workers' operation can run twice without harm: a call in flight on the killed
    // instance is retried on another one (without `idempotent`, only unsent calls are).
    groups: {
      workers: {
        strategy: 'least-connections',
        idempotent: true,
        retry: { maxRetries: 2, initialInterval: '20ms' },
      },
    },
    plugins: [],
  });
  say(`started with ${manager.plugins().length} members`);
  const served = new Map<string, number>();
  let ok = 0;
  const failed: string[] = [];
  // The demo says when to stop (a line on stdin), once it has killed and added an instance.
  let stop = false;
  process.stdin.on('data', () => (stop = true));
  // Four callers: mostly short calls (5 ms), one in ten long (200 ms).
  const caller = async (k: number) => {
    for (let i = 0; !stop; i++) {
      const ms = (i + k) % 10 === 0 ? 200 : 5;
      try {
        const who = await manager.execute(
          'workers',
          { ms },
          { operation: ms > 100 ? 'long' : 'short' },
        );
        served.set(who, (served.get(who) ?? 0) + 1);
        ok++;
      } catch (error) {
        failed.push((error as Error).message);
        await sleep(20);
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(caller));
  const status = manager.cluster()!;
  say(
    `done: ${ok} calls ok, ${failed.length} failed; served by ${JSON.stringify(Object.fromEntries([...served].sort()))}; ` +
      `redis ${status.redis}, ${status.liveReplicas} live hosts, view of ${status.view.replicas} others`,
  );
  for (const message of new Set(failed)) say(`failure: ${message}`);
  console.log(`RESULT ${JSON.stringify({ ok, failed: failed.length })}`);
  await manager.shutdown();
}

/** Starts redis-server, the instances and the hosts; kills one instance, adds one; cleans up. */
async function main(): Promise<void> {
  const server = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
  if (!existsSync(server)) {
    console.error(`redis-server not found at ${server} (apt-get install redis-server)`);
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'plugwire-demo-'));
  const socket = join(dir, 'redis.sock');
  const children = new Set<ChildProcess>();
  const started = performance.now();
  const stamp = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  const cleanup = () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);

  const redis = spawn(
    server,
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  children.add(redis);
  while (!existsSync(socket)) await sleep(20);
  const url = `unix://${socket}`;
  console.log(`${stamp()} redis-server on ${socket}`);

  const self = fileURLToPath(import.meta.url);
  const run = (who: string, args: string[], onLine?: (line: string) => void) => {
    const child = spawn(
      process.execPath,
      ['--loader', 'ts-node/esm', '--no-warnings', self, ...args],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
      },
    );
    children.add(child);
    child.on('exit', () => children.delete(child));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      onLine?.(line);
      if (!line.startsWith('RESULT ')) console.log(`${stamp()} ${who.padEnd(3)} ${line}`);
    });
    return child;
  };
  const startInstance = (id: string) =>
    new Promise<ChildProcess>((resolve) => {
      const child = run(
        id,
        ['instance', id, url],
        (line) => line.startsWith('ready') && resolve(child),
      );
    });

  // The instances, then the hosts, all starting side by side.
  const instances = new Map<string, ChildProcess>();
  const first = ['i1', 'i2', 'i3', 'i4'];
  (await Promise.all(first.map(startInstance))).forEach((child, k) =>
    instances.set(first[k]!, child),
  );
  const results: Array<{ ok: number; failed: number }> = [];
  let calling = 0;
  let joinedI5 = 0;
  const hosts = ['h1', 'h2', 'h3'].map((id) =>
    run(id, ['host', id, url], (line) => {
      if (line.startsWith('started')) calling++;
      if (line.startsWith('member joined: workers.i5')) joinedI5++;
      if (line.startsWith('RESULT ')) results.push(JSON.parse(line.slice(7)));
    }),
  );
  const hostsDone = Promise.all(hosts.map((h) => new Promise((resolve) => h.on('exit', resolve))));
  while (calling < hosts.length) await sleep(50);
  console.log(`${stamp()} --- every host calls ---`);
  await sleep(KILL_AFTER);
  console.log(`${stamp()} --- killing i2 (SIGKILL: its heartbeat just stops) ---`);
  instances.get('i2')!.kill('SIGKILL');
  console.log(`${stamp()} --- starting i5 ---`);
  instances.set('i5', await startInstance('i5'));
  while (joinedI5 < hosts.length) await sleep(50);
  await sleep(AFTER_JOIN);
  console.log(`${stamp()} --- stopping the hosts ---`);
  for (const h of hosts) h.stdin!.end('stop\n');
  await hostsDone;
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(`${stamp()} all hosts done: ${ok} calls ok, ${failed} failed`);
  for (const child of instances.values()) child.kill('SIGTERM');
  await sleep(300);
  cleanup();
  process.exit(results.length === 3 && ok > 0 ? 0 : 1);
}
