import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { serveHttp } from '../../src/sdk/index.js';
import { startRedis } from '../support/redis.js';
import { nodeScript } from '../support/scripts.js';

const HOST = nodeScript(new URL('../fixtures/cluster-host.ts', import.meta.url));
const REPLICAS = 3;
const LIMIT = 300;
const DURATION_MS = 10_000;
const BURST = 60;

/** Starts a host replica process; resolves with it once it says `ready`. */
function startHost(env: Record<string, string>): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, ['--no-warnings', ...HOST], {
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line === 'ready') resolve({ child, lines });
    });
    child.once('exit', (code) => reject(new Error(`host exited (${code}) before ready`)));
  });
}

test('3 host processes sharing a cluster limit of 300/s: the plugin receives 300/s ± 5%', async () => {
  const redis = await startRedis();
  after(() => redis.stop());
  const arrivals: number[] = [];
  const plugin = await serveHttp(async (n: number) => {
    arrivals.push(performance.now());
    return n;
  });
  after(() => plugin.close());

  const env = {
    REDIS_URL: redis.url,
    ENDPOINT: plugin.endpoint,
    NAMESPACE: 'limit-test',
    LIMIT: String(LIMIT),
    BURST: String(BURST),
    REPLICAS: String(REPLICAS),
    DURATION_MS: String(DURATION_MS),
    OFFER_EVERY_MS: '4', // ~250 calls/s offered by each host: 750/s against a limit of 300/s
  };
  const hosts = await Promise.all(Array.from({ length: REPLICAS }, () => startHost(env)));
  after(() => hosts.forEach(({ child }) => child.exitCode === null && child.kill('SIGKILL')));
  const exited = hosts.map(
    ({ child }) => new Promise<number | null>((resolve) => child.once('exit', resolve)),
  );
  for (const { child } of hosts) child.stdin!.write('go\n');
  const codes = await Promise.all(exited);
  assert.deepEqual(codes, [0, 0, 0]);

  const reports = hosts.map(({ lines }) => JSON.parse(lines.at(-1)!));
  for (const report of reports) {
    assert.deepEqual(report.other, [], 'only the limit refuses calls');
    assert.ok(report.limited > 0, 'each host offered more than its share');
    assert.equal(report.cluster.redis, 'ready');
    assert.deepEqual(report.cluster.fallback, { admitted: 0, refused: 0 });
  }
  // What the limit let through, over the time the hosts offered calls (wall clock, shared by the
  // processes): the plugin's own clock would also measure how late a loaded machine ran it.
  const total = reports.reduce((sum, r) => sum + r.ok, 0);
  const span =
    Math.max(...reports.map((r) => r.endedAt)) - Math.min(...reports.map((r) => r.startedAt));
  const rate = (total - BURST) / (span / 1000);
  console.log(
    `# the plugin received ${rate.toFixed(1)}/s`,
    JSON.stringify(reports.map((r) => [r.ok, r.cluster.leases, r.cluster.warmup])),
  );
  assert.ok(Math.abs(rate - LIMIT) <= LIMIT * 0.05, `the plugin received ${rate.toFixed(1)}/s`);
  assert.equal(total, arrivals.length, 'every admitted call reached the plugin');
});
