import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager, type ManagerEvents } from '../../src/index.js';
import { serveHttp, type ServedPlugin } from '../../src/sdk/index.js';
import { startDns, type DnsServer } from '../support/dns.js';
import { eventually } from '../fixtures/callContext.js';
import { startRedis, type RedisServer } from '../support/redis.js';

let redis: RedisServer;
let dns: DnsServer;
before(async () => {
  [redis, dns] = await Promise.all([startRedis(), startDns()]);
});
after(() => Promise.all([redis.stop(), dns.close()]));

/** Two instances on one port: `a` on 127.0.0.1, `b` on ::1 (as two pods of one Service). */
async function twoAddresses(): Promise<{ a: ServedPlugin; b: ServedPlugin; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const a = await serveHttp(async () => 'a', { host: '127.0.0.1' });
    const port = Number(new URL(a.endpoint).port);
    try {
      const b = await serveHttp(async () => 'b', { host: '::1', port });
      return { a, b, port };
    } catch (error) {
      await a.close();
      if (attempt === 5) throw error;
    }
  }
}

async function host(namespace: string, dnsConfig: Record<string, unknown>) {
  const manager = new Manager<string, string>();
  await manager.load({
    cluster: {
      redis: { url: redis.url },
      namespace,
      members: {
        workers: {
          refresh: '100ms',
          dns: { ...dnsConfig, servers: [dns.address] },
          template: { healthCheck: { interval: '100ms' } },
        },
      },
    },
    groups: { workers: { strategy: 'round-robin' } },
    plugins: [],
  });
  return manager;
}

const ready = (m: Manager) =>
  m.plugins().filter((p) => p.group === 'workers' && p.state === 'ready');

test('A/AAAA: members follow the records (joined, health-gated, drained and removed); silent DNS keeps them', async () => {
  const { a, b, port } = await twoAddresses();
  after(() => Promise.all([a.close(), b.close()]));
  dns.zone.set('workers.test', { A: ['127.0.0.1'] });
  const manager = await host('dns-a', { name: 'workers.test', port });
  after(() => manager.shutdown());
  const changes: ManagerEvents['cluster-member'][] = [];
  manager.on('cluster-member', (e) => changes.push(e));

  // Resolved at load (or, on a loaded machine, at the next refresh): there and serving.
  await eventually(() => ready(manager).length === 1, 5_000, 'the 127.0.0.1 member ready');
  assert.deepEqual(
    ready(manager).map((p) => p.transport),
    ['http'],
  );
  assert.equal(await manager.execute('workers', 'x'), 'a');

  // A second address: it joins, and calls reach both.
  dns.zone.set('workers.test', { A: ['127.0.0.1'], AAAA: ['::1'] });
  await eventually(() => ready(manager).length === 2, 5_000, 'the ::1 member ready');
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await manager.execute('workers', 'x'));
  assert.deepEqual([...answers].sort(), ['a', 'b']);

  // The A record goes: that member leaves (drained, closed); calls go to b alone.
  dns.zone.set('workers.test', { AAAA: ['::1'] });
  await eventually(() => manager.plugins().length === 1, 5_000, 'the 127.0.0.1 member removed');
  assert.equal(await manager.execute('workers', 'x'), 'b');
  assert.deepEqual(
    changes.map((c) => c.change),
    ['joined', 'left'],
  );
  assert.deepEqual(manager.cluster()!.members, { workers: 1 });

  // DNS stops answering: nobody is removed for it, calls go on.
  dns.silent = true;
  const queries = dns.queries;
  await sleep(600);
  assert.equal(dns.queries, queries);
  assert.equal(ready(manager).length, 1);
  assert.equal(await manager.execute('workers', 'x'), 'b');
  dns.silent = false;

  // The name has no records left (a Service scaled to zero): the member leaves.
  dns.zone.set('workers.test', {});
  await eventually(() => manager.plugins().length === 0, 5_000, 'no members');
});

test('SRV: each record is a member at its port, weighted by the record', async () => {
  const one = await serveHttp(async () => 'one');
  const two = await serveHttp(async () => 'two');
  after(() => Promise.all([one.close(), two.close()]));
  const portOf = (s: ServedPlugin) => Number(new URL(s.endpoint).port);
  dns.zone.set('_http._tcp.workers.test', {
    SRV: [
      { target: '127.0.0.1', port: portOf(one), weight: 1 },
      { target: '127.0.0.1', port: portOf(two), weight: 3 },
    ],
  });
  const manager = await host('dns-srv', { name: '_http._tcp.workers.test', type: 'SRV' });
  after(() => manager.shutdown());
  await eventually(() => ready(manager).length === 2, 5_000, 'both SRV members ready');
  assert.deepEqual(
    ready(manager)
      .map((p) => p.weight)
      .sort(),
    [1, 3],
  );
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await manager.execute('workers', 'x'));
  assert.deepEqual([...answers].sort(), ['one', 'two']);
});

test('a DNS group without a port for A/AAAA records is a config error', async () => {
  const manager = new Manager();
  after(() => manager.shutdown());
  await assert.rejects(
    manager.load({
      cluster: {
        redis: { url: redis.url },
        members: { workers: { dns: { name: 'workers.test' } } },
      },
      plugins: [],
    }),
    /cluster\.members\.workers\.dns\.port: needs a port with type A\+AAAA/,
  );
});
