import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Manager, type ManagerEvents } from '../../src/index.js';
import { isPluginError, serveGrpc, serveHttp } from '../../src/sdk/index.js';
import { ANNOUNCE_SCRIPT, memberKeys } from '../../src/cluster/registry.js';
import { eventually } from '../fixtures/callContext.js';
import { startRedis, type RedisServer } from '../support/redis.js';

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(() => redis.stop());

/** A host whose group `workers` takes its members from the registry (read every 100 ms). */
async function host(namespace: string): Promise<Manager<string, string>> {
  const manager = new Manager<string, string>();
  await manager.load({
    cluster: {
      redis: { url: redis.url },
      namespace,
      reconnect: { maxInterval: 200 },
      members: {
        workers: { refresh: '100ms', template: { healthCheck: { interval: '100ms' } } },
      },
    },
    groups: { workers: { strategy: 'round-robin' } },
    plugins: [],
  });
  return manager;
}

const members = (manager: Manager, group = 'workers') =>
  manager.plugins().filter((p) => p.group === group);

test('an announced instance joins the group and gets calls; closing it withdraws it', async () => {
  const a = await serveHttp(async () => 'a', {
    announce: {
      redis: { url: redis.url },
      namespace: 'join',
      group: 'workers',
      interval: 100,
      // Long: the entries must not expire on a loaded machine, and "left" must come from
      // close() withdrawing b, not from its entry expiring.
      ttl: 60_000,
    },
  });
  after(() => a.close());
  const manager = await host('join');
  after(() => manager.shutdown());
  // Known at load: the first read of the registry is part of it.
  assert.deepEqual(
    members(manager).map((p) => p.state),
    ['ready'],
  );
  assert.equal(await manager.execute('workers', 'x'), 'a');

  const joined: ManagerEvents['cluster-member'][] = [];
  manager.on('cluster-member', (e) => joined.push(e));
  const b = await serveHttp(async () => 'b', {
    announce: {
      redis: { url: redis.url },
      namespace: 'join',
      group: 'workers',
      interval: 100,
      // Long: the entries must not expire on a loaded machine, and "left" must come from
      // close() withdrawing b, not from its entry expiring.
      ttl: 60_000,
    },
  });
  await eventually(
    () => members(manager).filter((p) => p.state === 'ready').length === 2,
    5_000,
    'b ready',
  );
  assert.deepEqual(
    joined.map((e) => e.change),
    ['joined'],
  );
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await manager.execute('workers', 'x'));
  assert.deepEqual([...answers].sort(), ['a', 'b']);
  assert.deepEqual(manager.cluster()!.members, { workers: 2 });

  await b.close();
  await eventually(() => members(manager).length === 1, 5_000, 'b removed');
  assert.deepEqual(
    joined.map((e) => e.change),
    ['joined', 'left'],
  );
  assert.equal(await manager.execute('workers', 'x'), 'a');
});

test('a member whose heartbeat expires is drained: its call in flight finishes, then it is closed', async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const slow = await serveHttp(async (req: string) => {
    if (req === 'slow') await released;
    return 'slow-one';
  });
  after(() => slow.close());
  // An instance announced by hand, so that the test decides when its heartbeat stops.
  const client = new Redis({ path: redis.socket });
  after(() => client.disconnect());
  const entry = { id: 'frozen', transport: 'http', endpoint: slow.endpoint, weight: 1, labels: {} };
  const heartbeat = (ttl: number) =>
    client.eval(
      ANNOUNCE_SCRIPT,
      2,
      ...memberKeys('expire', 'workers'),
      'frozen',
      ttl,
      JSON.stringify(entry),
    );
  await heartbeat(60_000);

  const manager = await host('expire');
  after(() => manager.shutdown());
  const states: string[] = [];
  manager.on('plugin-state', (e) => states.push(e.to));
  const inFlight = manager.execute('workers', 'slow', { timeoutMs: 10_000 });
  await eventually(() => members(manager)[0]?.inFlight === 1, 5_000, 'call in flight');
  await heartbeat(200); // its last heartbeat: it expires 200 ms later
  // Out of the group at once (no new calls), draining until its call is done.
  await eventually(() => states.includes('draining'), 5_000, 'draining after expiry');
  assert.equal(members(manager).length, 0);
  // Draining, not cut: the call still runs, and finishes with the plugin's answer.
  release();
  assert.equal(await inFlight, 'slow-one');
  await eventually(() => states.includes('closed'), 5_000, 'closed');
  assert.deepEqual(states, ['draining', 'closed']);
  assert.deepEqual(manager.cluster()!.members, { workers: 0 });
});

test('a restart under the same identity replaces the member, never duplicates it', async () => {
  // The first process announced itself as worker-1, then crashed: its entry is still there.
  const first = await serveHttp(async () => 'first');
  const client = new Redis({ path: redis.socket });
  after(() => client.disconnect());
  const entry = {
    id: 'worker-1',
    transport: 'http',
    endpoint: first.endpoint,
    weight: 1,
    labels: {},
  };
  await client.eval(
    ANNOUNCE_SCRIPT,
    2,
    ...memberKeys('restart', 'workers'),
    'worker-1',
    60_000,
    JSON.stringify(entry),
  );
  const manager = await host('restart');
  after(() => manager.shutdown());
  assert.equal(await manager.execute('workers', 'x'), 'first');
  await first.close();

  // It comes back on another port under the same identity, long before the old entry expires.
  const second = await serveHttp(async () => 'second', {
    announce: {
      redis: { url: redis.url },
      namespace: 'restart',
      group: 'workers',
      id: 'worker-1',
      interval: 100,
    },
  });
  after(() => second.close());
  await eventually(
    () => members(manager).length === 1 && manager.plugins().every((p) => p.state === 'ready'),
    5_000,
    'the member moved to the new endpoint',
  );
  assert.equal(await manager.execute('workers', 'x'), 'second');
  assert.equal(members(manager).length, 1);
  assert.deepEqual(manager.cluster()!.members, { workers: 1 });
});

test('with Redis gone the members known stay and keep serving; when it is back, changes apply again', async () => {
  const a = await serveHttp(async () => 'a', {
    announce: {
      redis: { url: redis.url },
      namespace: 'outage',
      group: 'workers',
      interval: 100,
      ttl: 1_000,
    },
  });
  after(() => a.close());
  const manager = await host('outage');
  after(() => manager.shutdown());
  assert.equal(await manager.execute('workers', 'x'), 'a');
  await redis.kill();
  await sleep(1_500); // longer than the member's ttl: yet nobody can say it expired
  assert.equal(manager.cluster()!.redis, 'down');
  assert.equal(await manager.execute('workers', 'x'), 'a');
  assert.deepEqual(manager.cluster()!.members, { workers: 1 });
  await redis.restart(); // empty: the instance's next heartbeat announces it again
  const b = await serveHttp(async () => 'b', {
    announce: {
      redis: { url: redis.url },
      namespace: 'outage',
      group: 'workers',
      interval: 100,
      ttl: 1_000,
    },
  });
  after(() => b.close());
  await eventually(
    () => members(manager).filter((p) => p.state === 'ready').length === 2,
    5_000,
    'b joined',
  );
  await eventually(() => manager.cluster()!.redis === 'ready', 5_000, 'Redis ready');
});

test('serveGrpc announces too (transport grpc); bad announce options are refused with a typed error', async () => {
  const g = await serveGrpc(async () => 'grpc', {
    announce: { redis: { url: redis.url }, namespace: 'grpc', group: 'workers', interval: 100 },
  });
  after(() => g.close());
  const manager = await host('grpc');
  after(() => manager.shutdown());
  assert.deepEqual(
    members(manager).map((p) => p.transport),
    ['grpc'],
  );
  assert.equal(await manager.execute('workers', 'x'), 'grpc');
  await assert.rejects(
    serveHttp(async () => 1, {
      announce: { redis: { url: redis.url }, group: 'no spaces', interval: 1_000, ttl: 500 },
    }),
    (error: unknown) =>
      isPluginError(error) &&
      error.code === 'PLUGIN_1000' &&
      /group 'no spaces' is not a valid group name; ttl must be longer than interval/.test(
        error.message,
      ),
  );
});
