import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry, register as globalRegistry } from 'prom-client';
import { Manager, definePlugin, type RegisterOptions } from '../../src/index.js';
import { ErrorCode, applicationError, isPluginError } from '../../src/errors.js';
import {
  DEFAULT_DURATION_BUCKETS,
  collectPrometheus,
  type MetricsSource,
  type PrometheusOptions,
} from '../../src/observe/prometheus.js';
import {
  histogramSeries,
  parseExposition,
  type Family,
  type Sample,
} from '../support/prometheusText.js';

// ---------- helpers ----------

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const NO_RETRY_NO_CHECKS: RegisterOptions = {
  retry: { maxRetries: 0 },
  healthCheck: { enabled: false },
};

async function setup(options: PrometheusOptions = {}) {
  const manager = new Manager<unknown, unknown>({ builtinTransports: false });
  const registry = new Registry();
  const collector = await collectPrometheus(manager, { registry, ...options });
  cleanups.push(() => manager.shutdown());
  cleanups.push(() => collector.stop());
  return { manager, registry, collector };
}

async function scrape(registry: Registry): Promise<Map<string, Family>> {
  return parseExposition(await registry.metrics());
}

function family(families: Map<string, Family>, name: string): Family {
  const found = families.get(name);
  assert.ok(found, `no metric ${name} in the exposition`);
  return found;
}

/** The value of the one sample of `name` whose labels are exactly `labels`. */
function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const samples = [...families.values()].flatMap((f) => f.samples);
  const sample = samples.find(
    (s: Sample) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
  );
  return sample?.value;
}

function echo(name: string) {
  return definePlugin({ name, execute: (request: unknown) => request });
}

function failing(name: string) {
  return definePlugin({
    name,
    execute: () => {
      throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    },
  });
}

// ---------- the exposition ----------

describe('collectPrometheus', () => {
  test('exposes every metric under its name with the right TYPE', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('alpha'), NO_RETRY_NO_CHECKS);
    await manager.execute('alpha', 1);
    const families = await scrape(registry);
    const expected: Record<string, string> = {
      plugwire_requests_total: 'counter',
      plugwire_request_duration_seconds: 'histogram',
      plugwire_calls_total: 'counter',
      plugwire_call_duration_seconds: 'histogram',
      plugwire_in_flight: 'gauge',
      plugwire_retries_total: 'counter',
      plugwire_rate_limited_total: 'counter',
      plugwire_circuit_rejected_total: 'counter',
      plugwire_queue_rejected_total: 'counter',
      plugwire_circuit_state: 'gauge',
      plugwire_circuit_transitions_total: 'counter',
      plugwire_health_status: 'gauge',
      plugwire_health_transitions_total: 'counter',
      plugwire_health_checks_total: 'counter',
      plugwire_plugin_state: 'gauge',
      plugwire_startup_attempts_total: 'counter',
      plugwire_outlier_ejections_total: 'counter',
      plugwire_outlier_ejected: 'gauge',
      plugwire_ready: 'gauge',
    };
    assert.deepEqual(
      Object.fromEntries([...families.values()].map((f) => [f.name, f.type])),
      expected,
    );
    for (const f of families.values()) assert.ok(f.help, `${f.name} has a HELP line`);
  });

  test('counts attempts per plugin by outcome and error code', async () => {
    const { manager, registry } = await setup();
    await manager.register(
      definePlugin({
        name: 'alpha',
        execute: (n: unknown) => {
          if (n === 'no') throw applicationError('refused');
          if (n === 'boom') throw new Error('exploded');
          return n;
        },
      }),
      NO_RETRY_NO_CHECKS,
    );
    for (const request of [1, 2, 3, 'no', 'boom', 'boom']) {
      await manager.execute('alpha', request).catch(() => undefined);
    }
    const families = await scrape(registry);
    const requests = family(families, 'plugwire_requests_total');
    assert.deepEqual(
      requests.samples.map((s) => [s.labels, s.value]),
      [
        [{ plugin: 'alpha', outcome: 'success' }, 3],
        [{ plugin: 'alpha', outcome: 'application_error', code: ErrorCode.ApplicationError }, 1],
        [{ plugin: 'alpha', outcome: 'failure', code: ErrorCode.PluginExecutionFailed }, 2],
      ],
    );
    assert.equal(
      valueOf(families, 'plugwire_calls_total', {
        outcome: 'failure',
        code: ErrorCode.PluginExecutionFailed,
      }),
      2,
    );
  });

  test('counts a retried call once in calls_total and each attempt in requests_total', async () => {
    const { manager, registry } = await setup();
    let calls = 0;
    await manager.register(
      definePlugin({
        name: 'flaky',
        execute: (n: unknown) => {
          if (calls++ === 0) {
            throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
          }
          return n;
        },
      }),
      {
        retry: { maxRetries: 2, initialInterval: 1 },
        healthCheck: { enabled: false },
        idempotent: true,
      },
    );
    await manager.execute('flaky', 1);
    const families = await scrape(registry);
    assert.equal(valueOf(families, 'plugwire_calls_total', { outcome: 'success' }), 1);
    assert.equal(
      valueOf(families, 'plugwire_requests_total', { plugin: 'flaky', outcome: 'success' }),
      1,
    );
    assert.equal(
      valueOf(families, 'plugwire_requests_total', {
        plugin: 'flaky',
        outcome: 'failure',
        code: ErrorCode.PluginConnectionFailed,
      }),
      1,
    );
    assert.equal(valueOf(families, 'plugwire_retries_total', { plugin: 'flaky' }), 1);
  });

  test('exposes durations as histograms whose +Inf bucket equals the count', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('alpha'), NO_RETRY_NO_CHECKS);
    for (let i = 0; i < 5; i++) await manager.execute('alpha', i);
    const families = await scrape(registry);
    const [series] = histogramSeries(family(families, 'plugwire_request_duration_seconds'));
    assert.deepEqual(series!.labels, { plugin: 'alpha' });
    assert.equal(series!.count, 5);
    assert.equal(series!.buckets.at(-1)![1], 5);
    assert.ok(series!.sum > 0 && series!.sum < 5 * 30, 'the sum is in seconds');
    const [calls] = histogramSeries(family(families, 'plugwire_call_duration_seconds'));
    assert.equal(calls!.count, 5);
  });

  // Needs the wiring: manager.metrics({ latencyBucketsMs }) (see the report).
  test('fills the histogram buckets at the default bounds, cumulatively', async () => {
    const { manager, registry } = await setup();
    await manager.register(
      definePlugin({
        name: 'slow',
        execute: async (n: unknown) => {
          await sleep(30);
          return n;
        },
      }),
      NO_RETRY_NO_CHECKS,
    );
    for (let i = 0; i < 3; i++) await manager.execute('slow', i);
    const families = await scrape(registry);
    const [series] = histogramSeries(family(families, 'plugwire_request_duration_seconds'));
    assert.deepEqual(
      series!.buckets.map(([le]) => le),
      [...DEFAULT_DURATION_BUCKETS, Infinity],
    );
    const at = (le: number) => series!.buckets.find(([b]) => b === le)![1];
    // 30 ms sleeps are never counted under 25 ms; they are all under 30 s.
    assert.equal(at(0.025), 0);
    assert.equal(at(30), 3);
  });

  test('honours custom bucket bounds', async () => {
    const { manager, registry } = await setup({ buckets: [0.5, 2] });
    await manager.register(echo('alpha'), NO_RETRY_NO_CHECKS);
    await manager.execute('alpha', 1);
    const families = await scrape(registry);
    const [series] = histogramSeries(family(families, 'plugwire_request_duration_seconds'));
    const bounds = series!.buckets.map(([le]) => le);
    assert.equal(bounds.at(-1), Infinity);
    assert.ok(bounds.every((le) => [0.5, 2, Infinity].includes(le)));
  });

  test('reports in-flight attempts while they run', async () => {
    const { manager, registry } = await setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await manager.register(
      definePlugin({ name: 'held', execute: () => gate.then(() => 'done') }),
      NO_RETRY_NO_CHECKS,
    );
    const pending = [manager.execute('held', 1), manager.execute('held', 2)];
    assert.equal(valueOf(await scrape(registry), 'plugwire_in_flight', { plugin: 'held' }), 2);
    release();
    await Promise.all(pending);
    assert.equal(valueOf(await scrape(registry), 'plugwire_in_flight', { plugin: 'held' }), 0);
  });

  test('follows the circuit breaker: state 2 when open, and a transition to open', async () => {
    const { manager, registry } = await setup();
    await manager.register(failing('fragile'), {
      ...NO_RETRY_NO_CHECKS,
      circuitBreaker: { enabled: true, failureThreshold: 2, recoveryTimeout: 60_000 },
    });
    let families = await scrape(registry);
    assert.equal(valueOf(families, 'plugwire_circuit_state', { plugin: 'fragile' }), 0);
    for (let i = 0; i < 3; i++) await manager.execute('fragile', i).catch(() => undefined);
    families = await scrape(registry);
    assert.equal(valueOf(families, 'plugwire_circuit_state', { plugin: 'fragile' }), 2);
    assert.equal(
      valueOf(families, 'plugwire_circuit_transitions_total', { plugin: 'fragile', to: 'open' }),
      1,
    );
    assert.equal(valueOf(families, 'plugwire_circuit_rejected_total', { plugin: 'fragile' }), 1);
  });

  test('leaves circuit_state out for plugins without a breaker', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('plain'), {
      ...NO_RETRY_NO_CHECKS,
      circuitBreaker: { enabled: false },
    });
    const families = await scrape(registry);
    assert.deepEqual(family(families, 'plugwire_circuit_state').samples, []);
  });

  test('counts rate-limited attempts', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('limited'), {
      ...NO_RETRY_NO_CHECKS,
      rateLimit: { enabled: true, requestsPerSecond: 1, burstSize: 1 },
    });
    await manager.execute('limited', 1);
    const refused = await manager.execute('limited', 2).catch((e: unknown) => e);
    assert.ok(isPluginError(refused) && refused.code === ErrorCode.RateLimitExceeded);
    const families = await scrape(registry);
    assert.equal(valueOf(families, 'plugwire_rate_limited_total', { plugin: 'limited' }), 1);
  });

  test('marks the current health status with 1 and every other status with 0', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('checked'), { retry: { maxRetries: 0 } });
    const families = await scrape(registry);
    const statuses = family(families, 'plugwire_health_status').samples.map((s) => [
      s.labels.status,
      s.value,
    ]);
    assert.deepEqual(statuses, [
      ['unknown', 0],
      ['healthy', 1],
      ['degraded', 0],
      ['unhealthy', 0],
      ['offline', 0],
    ]);
    assert.equal(
      valueOf(families, 'plugwire_plugin_state', { plugin: 'checked', state: 'ready' }),
      1,
    );
  });

  test('counts health transitions from events', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('checked'), { retry: { maxRetries: 0 } });
    const families = await scrape(registry);
    assert.equal(
      valueOf(families, 'plugwire_health_transitions_total', { plugin: 'checked', to: 'healthy' }),
      1,
    );
  });

  // Needs the wiring: the manager's 'health-check' event (see the report).
  test('counts health checks by result', async () => {
    const { manager, registry } = await setup();
    let healthy = true;
    await manager.register(
      definePlugin({ name: 'checked', execute: (n: unknown) => n, health: () => healthy }),
      { retry: { maxRetries: 0 }, healthCheck: { enabled: true, interval: 20 } },
    );
    healthy = false;
    const count = async (result: string) =>
      valueOf(await scrape(registry), 'plugwire_health_checks_total', {
        plugin: 'checked',
        result,
      }) ?? 0;
    for (let i = 0; i < 500 && (await count('failure')) < 1; i++) await sleep(10);
    assert.ok((await count('success')) >= 1, 'the first check succeeded');
    assert.ok((await count('failure')) >= 1, 'a later check failed');
  });

  test('counts startup attempts by result', async () => {
    const { manager, registry } = await setup();
    let starts = 0;
    await manager.register(
      definePlugin({
        name: 'slow-starter',
        execute: (n: unknown) => n,
        start: async () => {
          if (starts++ === 0) throw new Error('not yet');
        },
      }),
      { ...NO_RETRY_NO_CHECKS, startup: { maxAttempts: 3, initialInterval: 1 } },
    );
    const families = await scrape(registry);
    const labels = { plugin: 'slow-starter' };
    assert.equal(
      valueOf(families, 'plugwire_startup_attempts_total', { ...labels, result: 'failure' }),
      1,
    );
    assert.equal(
      valueOf(families, 'plugwire_startup_attempts_total', { ...labels, result: 'success' }),
      1,
    );
  });

  test('reports readiness as 1 once the manager is ready', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('alpha'), NO_RETRY_NO_CHECKS);
    assert.equal(manager.readiness().ready, true);
    assert.equal(valueOf(await scrape(registry), 'plugwire_ready', {}), 1);
  });

  test('labels the plugins of a group with their group', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('a1'), { ...NO_RETRY_NO_CHECKS, group: 'pool' });
    await manager.register(echo('a2'), { ...NO_RETRY_NO_CHECKS, group: 'pool' });
    await manager.register(failing('solo'), {
      ...NO_RETRY_NO_CHECKS,
      circuitBreaker: { enabled: true, failureThreshold: 1 },
    });
    await manager.execute('pool', 1);
    await manager.execute('solo', 1).catch(() => undefined);
    const families = await scrape(registry);
    const groupOf = (f: string) =>
      Object.fromEntries(family(families, f).samples.map((s) => [s.labels.plugin, s.labels.group]));
    assert.deepEqual(groupOf('plugwire_in_flight'), { a1: 'pool', a2: 'pool', solo: undefined });
    assert.equal(
      valueOf(families, 'plugwire_circuit_transitions_total', { plugin: 'solo', to: 'open' }),
      1,
    );
  });

  test('uses only bounded labels: no request ids, keys or operations', async () => {
    const { manager, registry } = await setup();
    await manager.register(echo('alpha'), NO_RETRY_NO_CHECKS);
    await manager.execute('alpha', 1, {
      requestId: 'req-7f3a',
      key: 'customer-42',
      operation: 'resize-image',
    });
    const text = await registry.metrics();
    for (const secret of ['req-7f3a', 'customer-42', 'resize-image']) {
      assert.ok(!text.includes(secret), `${secret} is not in the exposition`);
    }
    const allowed = new Set(['plugin', 'group', 'outcome', 'code', 'status', 'state', 'result']);
    allowed.add('to').add('le');
    for (const f of parseExposition(text).values()) {
      for (const s of f.samples) {
        for (const label of Object.keys(s.labels)) assert.ok(allowed.has(label), label);
      }
    }
  });

  test('reads the manager once per scrape, not once per metric', async () => {
    const manager = new Manager<unknown, unknown>({ builtinTransports: false });
    cleanups.push(() => manager.shutdown());
    let reads = 0;
    const real: MetricsSource = manager;
    const source: MetricsSource = {
      metrics: (options) => {
        reads++;
        return real.metrics(options);
      },
      plugins: () => manager.plugins(),
      readiness: () => manager.readiness(),
      on: (event, listener) => manager.on(event, listener),
    };
    const registry = new Registry();
    const collector = await collectPrometheus(source, { registry });
    cleanups.push(() => collector.stop());
    await registry.metrics();
    assert.equal(reads, 1);
    await registry.metrics();
    assert.equal(reads, 2);
  });

  test('applies a custom prefix and constant labels to every series', async () => {
    const { manager, registry } = await setup({
      prefix: 'checkout_plugins_',
      labels: { service: 'checkout' },
    });
    await manager.register(echo('alpha'), NO_RETRY_NO_CHECKS);
    await manager.execute('alpha', 1);
    const families = await scrape(registry);
    assert.ok(families.size > 0);
    for (const f of families.values()) {
      assert.ok(f.name.startsWith('checkout_plugins_'), f.name);
      for (const s of f.samples) assert.equal(s.labels.service, 'checkout', s.name);
    }
    assert.equal(
      valueOf(families, 'checkout_plugins_requests_total', {
        plugin: 'alpha',
        outcome: 'success',
        service: 'checkout',
      }),
      1,
    );
  });

  test('stop() unregisters every metric and stops counting events', async () => {
    const { manager, registry, collector } = await setup();
    await manager.register(failing('fragile'), {
      ...NO_RETRY_NO_CHECKS,
      circuitBreaker: { enabled: true, failureThreshold: 1 },
    });
    collector.stop();
    collector.stop(); // idempotent
    assert.deepEqual(registry.getMetricsAsArray(), []);
    await manager.execute('fragile', 1).catch(() => undefined); // opens the breaker: no listener
    // The names are free again: a new collector starts from zero.
    const again = await collectPrometheus(manager, { registry });
    cleanups.push(() => again.stop());
    const families = await scrape(registry);
    assert.deepEqual(family(families, 'plugwire_circuit_transitions_total').samples, []);
  });

  test('registers in the global prom-client registry by default', async () => {
    const manager = new Manager<unknown, unknown>({ builtinTransports: false });
    cleanups.push(() => manager.shutdown());
    const collector = await collectPrometheus(manager, { prefix: 'plugwire_default_test_' });
    try {
      assert.ok(globalRegistry.getSingleMetric('plugwire_default_test_ready'));
    } finally {
      collector.stop();
    }
    assert.equal(globalRegistry.getSingleMetric('plugwire_default_test_ready'), undefined);
  });

  test('refuses a second collector with the same names, leaving the first in place', async () => {
    const { manager, registry } = await setup();
    await assert.rejects(collectPrometheus(manager, { registry }), /already been registered/);
    const families = await scrape(registry);
    assert.equal(family(families, 'plugwire_ready').samples.length, 1);
  });

  test('rejects an invalid prefix, label names it sets itself, and unsorted buckets', async () => {
    const manager = new Manager<unknown, unknown>({ builtinTransports: false });
    cleanups.push(() => manager.shutdown());
    const registry = new Registry();
    const invalid: PrometheusOptions[] = [
      { prefix: '1bad-' },
      { labels: { plugin: 'x' } },
      { labels: { 'bad-name': 'x' } },
      { buckets: [1, 0.5] },
    ];
    for (const options of invalid) {
      await assert.rejects(
        collectPrometheus(manager, { registry, ...options }),
        (error: unknown) => isPluginError(error) && error.code === ErrorCode.InvalidConfig,
      );
    }
    assert.deepEqual(registry.getMetricsAsArray(), []);
  });
});

// ---------- the parser the tests rely on must be able to fail ----------

describe('the strict exposition parser', () => {
  const histogram = (lines: string[]) => ['# TYPE h histogram', ...lines].join('\n') + '\n';

  test('accepts a well-formed histogram', () => {
    const text = histogram([
      'h_bucket{le="0.1"} 1',
      'h_bucket{le="+Inf"} 2',
      'h_sum 0.3',
      'h_count 2',
    ]);
    assert.equal(histogramSeries(parseExposition(text).get('h')!)[0]!.count, 2);
  });

  test('rejects buckets that are not cumulative', () => {
    const text = histogram([
      'h_bucket{le="0.1"} 3',
      'h_bucket{le="+Inf"} 2',
      'h_sum 1',
      'h_count 2',
    ]);
    assert.throws(() => parseExposition(text), /not cumulative/);
  });

  test('rejects a +Inf bucket that differs from the count', () => {
    const text = histogram(['h_bucket{le="+Inf"} 2', 'h_sum 1', 'h_count 3']);
    assert.throws(() => parseExposition(text), /\+Inf bucket != _count/);
  });

  test('rejects a duplicate series, a TYPE after samples, and bad label syntax', () => {
    assert.throws(() => parseExposition('# TYPE c counter\nc 1\nc 2\n'), /duplicate series/);
    assert.throws(() => parseExposition('c 1\n# TYPE c counter\n'), /TYPE after samples/);
    assert.throws(() => parseExposition('c{a=1} 1\n'), /expected ="/);
  });
});
