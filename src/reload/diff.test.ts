import assert from 'node:assert/strict';
import { DEFAULT_OUTLIER_DETECTION } from '../config/outlier-schema.js';
import { describe, test } from 'node:test';
import { parseConfig } from '../builtinConfig.js';
import {
  DEFAULT_POLICY,
  DEFAULT_READINESS,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STARTUP_CONCURRENCY,
  pluginConfig,
} from '../config/defaults.js';
import type { ManagerConfig, PluginConfig } from '../config/types.js';
import { DEFAULT_DISCOVERY } from '../config/discovery-schema.js';
import { diffModels, isEmptyDiff } from './diff.js';

function config(plugins: PluginConfig[], extra: Partial<ManagerConfig> = {}): ManagerConfig {
  return {
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    defaults: structuredClone(DEFAULT_POLICY),
    groups: {},
    readiness: structuredClone(DEFAULT_READINESS),
    retryBudget: { ...DEFAULT_RETRY_BUDGET },
    startupConcurrency: DEFAULT_STARTUP_CONCURRENCY,
    plugins,
    discovery: structuredClone(DEFAULT_DISCOVERY),
    ...extra,
  };
}

function http(name: string, fields: Partial<PluginConfig> = {}): PluginConfig {
  return pluginConfig({
    name,
    transport: 'http',
    endpoint: `http://127.0.0.1:8080/${name}`,
    ...fields,
  });
}

function exec(name: string, fields: Partial<PluginConfig> = {}): PluginConfig {
  return pluginConfig({ name, transport: 'exec', executable: '/usr/bin/plugin', ...fields });
}

/** The changes reported for the one plugin `before` → `after`. */
function changesOf(before: PluginConfig, after: PluginConfig): string[] {
  const diff = diffModels(config([before]), config([after]));
  assert.equal(diff.updated.length, 1, 'expected the plugin to be reported as updated');
  return diff.updated[0]!.changes;
}

describe('diffModels: plugins', () => {
  test('reports identical configs as unchanged, with nothing to do', () => {
    const diff = diffModels(config([http('a'), exec('b')]), config([http('a'), exec('b')]));
    assert.deepEqual(diff.unchanged, ['a', 'b']);
    assert.deepEqual([diff.added, diff.updated, diff.removed], [[], [], []]);
    assert.equal(isEmptyDiff(diff), true);
  });

  test('reports a changed scalar field by its name', () => {
    assert.deepEqual(changesOf(http('a'), http('a', { weight: 3 })), ['weight']);
    assert.deepEqual(changesOf(http('a'), http('a', { transport: 'https' })), ['transport']);
  });

  test('reports nested policy fields at leaf level', () => {
    const after = http('a');
    after.circuitBreaker.failureThreshold = 9;
    after.connection.maxConnections = 50;
    after.retry.randomJitter = false;
    assert.deepEqual(changesOf(http('a'), after), [
      'circuitBreaker.failureThreshold',
      'connection.maxConnections',
      'retry.randomJitter',
    ]);
  });

  test('compares list items by position, so reordering counts as a change', () => {
    const before = exec('a', { args: ['--port', '1', '--verbose'], env: ['A=1', 'B=2'] });
    assert.deepEqual(changesOf(before, exec('a', { args: ['--port', '2', '--verbose'] })), [
      'args[1]',
      'env[0]',
      'env[1]',
    ]);
    assert.deepEqual(
      changesOf(before, exec('a', { args: ['--port', '1', '--verbose'], env: ['B=2', 'A=1'] })),
      ['env[0]', 'env[1]'],
    );
  });

  test('reports items appended to or dropped from a list', () => {
    const before = exec('a', { args: ['x'] });
    assert.deepEqual(changesOf(before, exec('a', { args: ['x', 'y', 'z'] })), [
      'args[1]',
      'args[2]',
    ]);
    assert.deepEqual(changesOf(before, exec('a', { args: [] })), ['args[0]']);
  });

  test('reports map keys added, removed and changed', () => {
    const before = http('a', { labels: { team: 'core', tier: 'gold' }, options: { model: 'x' } });
    const after = http('a', { labels: { team: 'edge', zone: 'eu' }, options: { model: 'y' } });
    assert.deepEqual(changesOf(before, after), [
      'labels.team',
      'labels.tier',
      'labels.zone',
      'options.model',
    ]);
  });

  test('reports nested free-form options down to their leaves', () => {
    const before = http('a', { options: { pool: { size: 2, hosts: ['a', 'b'] } } });
    const after = http('a', { options: { pool: { size: 2, hosts: ['a', 'c'] }, extra: {} } });
    assert.deepEqual(changesOf(before, after), ['options.extra', 'options.pool.hosts[1]']);
  });

  test('reports every leaf of a section that appears or disappears', () => {
    const plain = http('a');
    const secured = http('a', { tls: { caFile: '/etc/ca.pem', insecureSkipVerify: false } });
    assert.deepEqual(changesOf(plain, secured), ['tls.caFile', 'tls.insecureSkipVerify']);
    assert.deepEqual(changesOf(secured, plain), ['tls.caFile', 'tls.insecureSkipVerify']);
  });

  test('reports a value that changes shape with the leaves of both sides', () => {
    const before = http('a', { options: { retry: 3 } });
    const after = http('a', { options: { retry: { times: 3 } } });
    assert.deepEqual(changesOf(before, after), ['options.retry', 'options.retry.times']);
  });

  test('treats a field set to undefined like a missing field', () => {
    const before = http('a');
    const after = http('a', { group: undefined, workDir: undefined });
    const diff = diffModels(config([before]), config([after]));
    assert.deepEqual(diff.unchanged, ['a']);
  });

  test('quotes map keys that are not plain identifiers', () => {
    const before = http('a', { labels: { 'app.kubernetes.io/name': 'pay' } });
    const after = http('a', { labels: { 'app.kubernetes.io/name': 'bill' } });
    assert.deepEqual(changesOf(before, after), ['labels["app.kubernetes.io/name"]']);
  });

  test('lists changes in the same order whatever the key order of the inputs', () => {
    const before = http('a', { labels: { b: '1', a: '1', c: '1' } });
    const after = http('a', { labels: { c: '2', a: '2', b: '2' } });
    assert.deepEqual(changesOf(before, after), ['labels.a', 'labels.b', 'labels.c']);
    assert.deepEqual(changesOf(after, before), ['labels.a', 'labels.b', 'labels.c']);
  });

  test('matches plugins by name: a rename is a removal plus an addition', () => {
    const diff = diffModels(config([http('old-name')]), config([http('new-name')]));
    assert.deepEqual(diff.removed, ['old-name']);
    assert.deepEqual(diff.added, ['new-name']);
    assert.deepEqual(diff.updated, []);
  });

  test('lists added, updated and unchanged in the next config order, removed in the old one', () => {
    const old = config([http('r2'), http('u2'), http('s1'), http('r1'), http('u1')]);
    const next = config([
      http('n2'),
      http('u1', { weight: 2 }),
      http('s1'),
      http('n1'),
      http('u2', { priority: 1 }),
    ]);
    const diff = diffModels(old, next);
    assert.deepEqual(diff.added, ['n2', 'n1']);
    assert.deepEqual(
      diff.updated.map((u) => u.name),
      ['u1', 'u2'],
    );
    assert.deepEqual(diff.removed, ['r2', 'r1']);
    assert.deepEqual(diff.unchanged, ['s1']);
  });

  test('works on configs parsed from go-plugins style input', () => {
    const input = (interval: string) => ({
      plugins: [
        {
          name: 'pay',
          transport: 'http',
          endpoint: 'http://127.0.0.1:9000',
          health_check: { interval, failure_limit: 3 },
          circuit_breaker: { failure_threshold: 5 },
        },
      ],
    });
    const diff = diffModels(
      parseConfig(input('30s'), { env: {} }),
      parseConfig(input('5s'), { env: {} }),
    );
    assert.deepEqual(diff.updated, [
      { name: 'pay', changes: ['healthCheck.interval'], mode: 'in-place' },
    ]);
  });
});

describe('diffModels: secrets', () => {
  const SECRETS = [
    'tok-SECRET-1',
    'pw-SECRET-2',
    'hdr-SECRET-3',
    'env-SECRET-4',
    'key-SECRET-5',
  ] as const;

  test('reports changed secret fields by path and never carries their values', () => {
    const before = exec('a', {
      auth: { method: 'bearer', token: 'tok-old-000', headers: { 'X-Api-Key': 'hdr-old-000' } },
      env: ['API_KEY=key-old-000'],
    });
    const after = exec('a', {
      auth: {
        method: 'bearer',
        token: SECRETS[0],
        password: SECRETS[1],
        headers: { 'X-Api-Key': SECRETS[2] },
      },
      env: [`API_KEY=${SECRETS[4]}`, `TOKEN=${SECRETS[3]}`],
    });
    const diff = diffModels(config([before]), config([after]));
    assert.deepEqual(diff.updated, [
      {
        name: 'a',
        changes: ['auth.headers.X-Api-Key', 'auth.password', 'auth.token', 'env[0]', 'env[1]'],
        mode: 'recreate',
      },
    ]);
    const text = JSON.stringify(diff);
    for (const secret of [...SECRETS, 'tok-old-000', 'hdr-old-000', 'key-old-000']) {
      assert.ok(!text.includes(secret), `the diff must not contain ${secret}`);
    }
  });

  test('holds no values for added plugins, only their names', () => {
    const added = http('a', { auth: { method: 'bearer', token: SECRETS[0] } });
    const text = JSON.stringify(diffModels(config([]), config([added])));
    assert.ok(!text.includes(SECRETS[0]));
    assert.ok(text.includes('"added":["a"]'));
  });
});

describe('diffModels: in place or recreate', () => {
  test('applies in place a plugin whose changes are all live-adjustable', () => {
    const after = http('a', {
      weight: 5,
      priority: 2,
      enabled: false,
      group: 'g',
      labels: { team: 'x' },
      annotations: { note: 'y' },
    });
    after.rateLimit.requestsPerSecond = 1;
    after.circuitBreaker.enabled = false;
    after.retry.maxRetries = 0;
    after.healthCheck.interval = 1_000;
    after.healthCheck.timeout = 500;
    after.healthCheck.failureLimit = 1;
    after.healthCheck.enabled = false;
    after.connection.requestTimeout = 1_000;
    after.startup.maxAttempts = 1;
    const [update] = diffModels(config([http('a')]), config([after])).updated;
    assert.equal(update?.mode, 'in-place');
    assert.equal(update?.changes.length, 15);
  });

  test('recreates a plugin when one change needs a new instance', () => {
    const recreating: Array<[string, (p: PluginConfig) => void]> = [
      ['endpoint', (p) => (p.endpoint = 'http://127.0.0.1:1')],
      ['socketPath', (p) => (p.socketPath = '/tmp/x.sock')],
      ['transport', (p) => (p.transport = 'https')],
      ['auth.method', (p) => (p.auth = { method: 'api-key', apiKey: 'k' })],
      ['tls.insecureSkipVerify', (p) => (p.tls = { insecureSkipVerify: true })],
      ['connection.maxConnections', (p) => (p.connection.maxConnections = 1)],
      ['connection.keepAlive', (p) => (p.connection.keepAlive = false)],
      ['executable', (p) => (p.executable = '/bin/other')],
      ['args[0]', (p) => (p.args = ['-v'])],
      ['env[0]', (p) => (p.env = ['A=1'])],
      ['workDir', (p) => (p.workDir = '/srv')],
      ['options.model', (p) => (p.options = { model: 'm' })],
      ['type', (p) => (p.type = 'payments')],
      ['healthCheck.endpoint', (p) => (p.healthCheck.endpoint = '/ready')],
    ];
    for (const [path, change] of recreating) {
      const after = http('a', { weight: 7 });
      change(after);
      const [update] = diffModels(config([http('a')]), config([after])).updated;
      assert.ok(update?.changes.includes(path), `${path} should be reported`);
      assert.ok(update?.changes.includes('weight'));
      assert.equal(update?.mode, 'recreate', `${path} should recreate`);
    }
  });
});

describe('diffModels: groups', () => {
  test('reports declared groups added, removed and updated at leaf level', () => {
    const old = config([], {
      groups: {
        keep: { strategy: 'round-robin', options: {} },
        tune: { strategy: 'consistent-hash', options: { virtualNodes: 100 } },
        drop: { strategy: 'random', options: {} },
      },
    });
    const next = config([], {
      groups: {
        tune: { strategy: 'consistent-hash', options: { virtualNodes: 200 } },
        keep: { strategy: 'round-robin', options: {} },
        swap: { strategy: 'p2c', options: {} },
      },
    });
    old.groups.swap = { strategy: 'random', options: {} };
    next.groups.new = { strategy: 'random', options: {} };
    const { groups } = diffModels(old, next);
    assert.deepEqual(groups.added, ['new']);
    assert.deepEqual(groups.removed, ['drop']);
    assert.deepEqual(groups.unchanged, ['keep']);
    assert.deepEqual(groups.updated, [
      { name: 'tune', changes: ['options.virtualNodes'] },
      { name: 'swap', changes: ['strategy'] },
    ]);
  });

  test('reports outlier detection turned on and tuned as group changes', () => {
    const off = config([], { groups: { pool: { strategy: 'p2c', options: {} } } });
    const on = config([], {
      groups: {
        pool: { strategy: 'p2c', options: {}, outlierDetection: DEFAULT_OUTLIER_DETECTION },
      },
    });
    const tuned = config([], {
      groups: {
        pool: {
          strategy: 'p2c',
          options: {},
          outlierDetection: { ...DEFAULT_OUTLIER_DETECTION, consecutiveFailures: 3 },
        },
      },
    });
    assert.equal(diffModels(off, on).groups.updated[0]?.name, 'pool');
    assert.deepEqual(diffModels(on, tuned).groups.updated, [
      { name: 'pool', changes: ['outlierDetection.consecutiveFailures'] },
    ]);
  });

  test('counts a group only named by a plugin, and drops it with its last member', () => {
    const withGroup = config([http('a', { group: 'pool' })]);
    const without = config([http('a')]);
    assert.deepEqual(diffModels(without, withGroup).groups.added, ['pool']);
    assert.deepEqual(diffModels(withGroup, without).groups.removed, ['pool']);
  });

  test('sees no change when an implicit group is declared with the default strategy', () => {
    const implicit = config([http('a', { group: 'pool' })]);
    const declared = config([http('a', { group: 'pool' })], {
      groups: { pool: { strategy: 'round-robin', options: {} } },
    });
    const diff = diffModels(implicit, declared);
    assert.deepEqual(diff.groups.unchanged, ['pool']);
    assert.equal(isEmptyDiff(diff), true);
  });

  test('reports a plugin moving between groups as an in-place change of its group', () => {
    const diff = diffModels(
      config([http('a', { group: 'one' })]),
      config([http('a', { group: 'two' })]),
    );
    assert.deepEqual(diff.updated, [{ name: 'a', changes: ['group'], mode: 'in-place' }]);
    assert.deepEqual(diff.groups.added, ['two']);
    assert.deepEqual(diff.groups.removed, ['one']);
  });
});

describe('diffModels: manager settings', () => {
  test('flags a readiness change (policy or required plugins)', () => {
    const base = config([http('a')]);
    const healthy = config([http('a')], { readiness: { policy: 'healthy', required: [] } });
    const required = config([http('a')], { readiness: { policy: 'attempted', required: ['a'] } });
    const minReady = config([http('a')], { readiness: { policy: { minReady: 1 }, required: [] } });
    assert.equal(diffModels(base, base).readinessChanged, false);
    assert.deepEqual(diffModels(base, healthy).settings, ['readiness.policy']);
    assert.deepEqual(diffModels(base, required).settings, ['readiness.required[0]']);
    assert.deepEqual(diffModels(base, minReady).settings, [
      'readiness.policy',
      'readiness.policy.minReady',
    ]);
    for (const next of [healthy, required, minReady]) {
      const diff = diffModels(base, next);
      assert.equal(diff.readinessChanged, true);
      assert.equal(diff.defaultsChanged, false);
      assert.equal(isEmptyDiff(diff), false);
    }
  });

  test('lists changed defaults, retry budget and startup concurrency as settings', () => {
    const next = config([http('a')], {
      retryBudget: { ...DEFAULT_RETRY_BUDGET, ratio: 0.5 },
      startupConcurrency: 2,
    });
    next.defaults.retry.maxRetries = 7;
    const diff = diffModels(config([http('a')]), next);
    assert.deepEqual(diff.settings, [
      'defaults.retry.maxRetries',
      'retryBudget.ratio',
      'startupConcurrency',
    ]);
    assert.equal(diff.defaultsChanged, true);
    assert.equal(diff.readinessChanged, false);
    assert.deepEqual(diff.unchanged, ['a']);
  });
});
