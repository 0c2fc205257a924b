import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { ReadinessReport } from '../../src/health/readiness.js';
import type { PluginSnapshot, PluginState } from '../../src/pipeline/PluginSlot.js';
import {
  DEFAULT_DURATION_BUCKETS,
  collectPrometheus,
  type MetricsSource,
  type PrometheusOptions,
} from '../../src/observe/prometheus.js';
import type { CounterSnapshot, LatencyBuckets } from '../../src/observe/stats.js';
import { outcomeOfCode } from '../../src/observe/outcome.js';
import type { CircuitState, HealthState } from '../../src/index.js';
import { parseExposition } from '../support/prometheusText.js';

// The exporter writes the exposition lines of its own series itself (promText.ts) instead of
// having prom-client format each value. These tests hold that text to prom-client's: the same
// lines as prom-client's registry writes for the same values, and as prom-client's own Counter,
// Gauge and Histogram write for the same series; label values that need escaping and special
// numbers included; and prom-client's own formatting wherever the registry would change the
// lines (default labels, OpenMetrics).

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A constant label value with every character the text format escapes, and non-ASCII ones. */
const AWKWARD = 'say "hi"\\ back\nslash \\n, é € 😀';

interface FakePlugin {
  name: string;
  group?: string;
  counters?: Partial<CounterSnapshot>;
  /** Durations of the attempts, seconds. */
  observations?: number[];
  health?: HealthState;
  state?: PluginState;
  breaker?: CircuitState;
}

type Listener = (event: unknown) => void;

/** A {@link MetricsSource} reporting exactly the given plugins and values, with events to fire. */
class FakeSource {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(public plugin: FakePlugin[]) {}

  metrics(options?: { latencyBucketsMs?: readonly number[] | undefined }) {
    const bounds = options?.latencyBucketsMs ?? [];
    const plugins: Record<string, CounterSnapshot> = {};
    for (const p of this.plugin) plugins[p.name] = counters(p, bounds);
    return { global: counters({ name: '', counters: { success: 3 } }, bounds), plugins };
  }

  plugins(): PluginSnapshot[] {
    return this.plugin.map(
      (p) =>
        ({
          name: p.name,
          group: p.group,
          state: p.state ?? 'ready',
          health: { status: p.health ?? 'healthy', lastCheck: 0, responseTimeMs: 0 },
          breaker:
            p.breaker === undefined
              ? undefined
              : { state: p.breaker, consecutiveFailures: 0, opens: 0 },
        }) as PluginSnapshot,
    );
  }

  readiness(): ReadinessReport {
    return { ready: true } as ReadinessReport;
  }

  on = ((event: string, listener: Listener): (() => void) => {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }) as MetricsSource['on'];

  emit(event: string, payload: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener(payload);
  }
}

function counters(p: FakePlugin, boundsMs: readonly number[]): CounterSnapshot {
  const observations = p.observations ?? [];
  const sumMs = observations.reduce((sum, s) => sum + s * 1000, 0);
  const histogram: LatencyBuckets = {
    boundsMs,
    cumulative: boundsMs.map((b) => observations.filter((s) => s * 1000 <= b).length),
    count: observations.length,
    sumMs,
  };
  const n = observations.length;
  return {
    total: 0,
    success: 0,
    failure: 0,
    applicationError: 0,
    timeout: 0,
    aborted: 0,
    retries: 0,
    rateLimited: 0,
    circuitRejected: 0,
    queueRejected: 0,
    inFlight: 0,
    byCode: {},
    latency: { count: n, min: 0, avg: n === 0 ? 0 : sumMs / n, max: 0, p50: 0, p90: 0, p99: 0 },
    histogram,
    ...p.counters,
  };
}

async function collect(source: FakeSource, options: PrometheusOptions = {}) {
  const registry = options.registry instanceof Registry ? options.registry : new Registry();
  const collector = await collectPrometheus(source, { registry, ...options });
  cleanups.push(() => collector.stop());
  return { registry: registry as Registry, collector };
}

/**
 * prom-client's registry formatting the same values itself: each metric's `get()` (every label
 * of a series in `labels`) in a registry that has only that to read.
 */
async function formattedByPromClient(registry: Registry): Promise<string> {
  const plain = new Registry();
  plain.setContentType(registry.contentType as typeof plain.contentType);
  type Readable = { name: string; help: string; type: string; aggregator: string } & Pick<
    Metric,
    'get'
  >;
  for (const metric of registry.getMetricsAsArray() as unknown as Readable[]) {
    plain.registerMetric({
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: metric.aggregator,
      get: () => metric.get(),
      reset: () => {},
    } as unknown as Metric);
  }
  return plain.metrics();
}

/** Equal texts, or the first line where they differ. */
function sameLines(actual: string, expected: string): void {
  const a = actual.split('\n');
  const e = expected.split('\n');
  const at = a.findIndex((line, i) => line !== e[i]);
  if (at >= 0 || a.length !== e.length) {
    const i = at >= 0 ? at : Math.min(a.length, e.length);
    assert.deepEqual(
      { line: i + 1, text: a[i] },
      { line: i + 1, text: e[i] },
      'the exposition differs from prom-client’s',
    );
  }
}

/** The lines of one family (HELP, TYPE, samples) in an exposition. */
function block(text: string, name: string): string {
  const start = text.indexOf(`# HELP ${name} `);
  assert.ok(start >= 0, `no ${name} in the exposition`);
  const end = text.indexOf('\n\n', start);
  return text.slice(start, end < 0 ? undefined : end).trimEnd();
}

/** Plugins whose values exercise every series, special numbers and code labels included. */
function variedPlugins(n: number): FakePlugin[] {
  const special = [NaN, Infinity, -Infinity, 0.5, 0];
  return Array.from({ length: n }, (_, i) => ({
    name: `p${i}`,
    ...(i % 3 === 0 ? { group: `g${i % 7}` } : {}),
    counters: {
      success: i * 1001,
      byCode: (i % 2 === 0
        ? { PLUGIN_1204: i, PLUGIN_1205: 1, 'custom "x"\\\n': 2 }
        : {}) as Record<string, number>,
      inFlight: special[i % special.length]!,
      retries: i === 1 ? Number.MAX_SAFE_INTEGER : i,
      rateLimited: i === 2 ? 1e21 : 0.1 + 0.2,
      circuitRejected: i % 5,
      queueRejected: 12345678901,
    },
    observations: i % 4 === 0 ? [] : [0.0005, 0.25, 0.25, 2.5, 45].slice(0, 1 + (i % 5)),
    health: (['unknown', 'healthy', 'degraded', 'unhealthy', 'offline'] as const)[i % 5],
    state: (['pending', 'starting', 'ready', 'failed', 'draining', 'closed'] as const)[i % 6],
    ...(i % 2 === 1 ? { breaker: (['closed', 'open', 'half-open'] as const)[i % 3] } : {}),
  }));
}

function fireEvents(source: FakeSource, plugins: FakePlugin[]): void {
  for (const [i, p] of plugins.entries()) {
    if (i % 2 === 0) source.emit('circuit-open', { plugin: p.name, to: 'open' });
    source.emit('health-change', { plugin: p.name, to: 'degraded' });
    source.emit('health-check', { plugin: p.name, status: i % 3 === 0 ? 'offline' : 'healthy' });
    source.emit('plugin-state', { plugin: p.name, to: 'ready' });
    if (i % 4 === 0) source.emit('startup-attempt-failed', { plugin: p.name });
    if (i % 5 === 0) source.emit('outlier-ejected', { plugin: p.name });
  }
}

describe('the exposition text written by the exporter', () => {
  test('is the text prom-client’s registry writes for the same values: escapes, special numbers, many plugins', async () => {
    // 1,500 plugins: every metric's lines span several of the chunks handed to the registry.
    const plugins = variedPlugins(1_500);
    const source = new FakeSource(plugins);
    const { registry } = await collect(source, { labels: { service: AWKWARD } });
    fireEvents(source, plugins);

    const text = await registry.metrics();
    sameLines(text, await formattedByPromClient(registry));
    assert.ok(text.length > 1_000_000, `${text.length} characters`);

    // What the escapes and numbers look like, spelled out.
    const service = 'service="say \\"hi\\"\\\\ back\\nslash \\\\n, é € 😀"';
    assert.ok(text.includes(`plugwire_in_flight{plugin="p0",group="g0",${service}} Nan\n`));
    assert.ok(text.includes(`plugwire_in_flight{plugin="p1",${service}} +Inf\n`));
    assert.ok(text.includes(`plugwire_in_flight{plugin="p2",${service}} -Inf\n`));
    assert.ok(text.includes(`plugwire_retries_total{plugin="p1",${service}} 9007199254740991\n`));
    assert.ok(text.includes(`plugwire_rate_limited_total{plugin="p2",${service}} 1e+21\n`));
    assert.ok(
      text.includes(`plugwire_rate_limited_total{plugin="p1",${service}} 0.30000000000000004\n`),
    );
    assert.ok(
      text.includes(
        `plugwire_requests_total{outcome="failure",code="custom \\"x\\"\\\\\\n",plugin="p0",group="g0",${service}} 2\n`,
      ),
    );

    // The strict parser reads back what went in.
    const families = parseExposition(text);
    const inFlight = families.get('plugwire_in_flight')!.samples;
    assert.equal(inFlight.length, 1_500);
    assert.ok(inFlight.every((s) => s.labels.service === AWKWARD));
    assert.ok(Number.isNaN(inFlight[0]!.value));
    assert.equal(inFlight[1]!.value, Infinity);
  });

  test('hands the registry a few chunks of lines, not one value per series, when it prints them unchanged', async () => {
    const source = new FakeSource(variedPlugins(1_000));
    const { registry } = await collect(source);
    const metric = registry.getSingleMetric('plugwire_request_duration_seconds') as unknown as {
      getForPromString(): Promise<{ values: unknown[] }>;
    };
    const { values } = await metric.getForPromString();
    // 1,000 plugins × 17 lines, in chunks of 32 KiB.
    assert.ok(values.length > 1 && values.length < 100, `${values.length} values`);
  });

  test('writes the same lines as prom-client’s own Counter, Gauge and Histogram holding the same series', async () => {
    const plugins: FakePlugin[] = [
      {
        name: 'alpha',
        group: 'g1',
        counters: { success: 7, byCode: { PLUGIN_1204: 2 }, inFlight: NaN, retries: 2 ** 53 - 1 },
        observations: [0.25, 0.25, 2.5, 45],
      },
      {
        name: 'beta',
        counters: { success: 0, inFlight: Infinity, retries: 1e21 },
        observations: [0.0005],
      },
      { name: 'gamma', counters: { success: 3, inFlight: -Infinity, retries: 0 } },
    ];
    const { registry } = await collect(new FakeSource(plugins), { labels: { service: AWKWARD } });
    const ours = await registry.metrics();

    const own = new Registry();
    const help = (name: string): string =>
      (registry.getSingleMetric(name) as unknown as { help: string }).help;
    const shared = (p: FakePlugin) => ({
      plugin: p.name,
      ...(p.group === undefined ? {} : { group: p.group }),
      service: AWKWARD,
    });
    const labelNames = ['outcome', 'code', 'plugin', 'group', 'service'];
    const requests = new Counter({
      name: 'plugwire_requests_total',
      help: help('plugwire_requests_total'),
      labelNames,
      registers: [own],
    });
    const inFlight = new Gauge({
      name: 'plugwire_in_flight',
      help: help('plugwire_in_flight'),
      labelNames,
      registers: [own],
    });
    const retries = new Counter({
      name: 'plugwire_retries_total',
      help: help('plugwire_retries_total'),
      labelNames,
      registers: [own],
    });
    const durations = new Histogram({
      name: 'plugwire_request_duration_seconds',
      help: help('plugwire_request_duration_seconds'),
      labelNames,
      buckets: [...DEFAULT_DURATION_BUCKETS],
      registers: [own],
    });
    for (const p of plugins) {
      const c = p.counters!;
      requests.inc({ outcome: 'success', ...shared(p) }, c.success);
      for (const [code, n] of Object.entries(c.byCode ?? {})) {
        requests.inc({ outcome: outcomeOfCode(code), code, ...shared(p) }, n);
      }
      inFlight.set(shared(p), c.inFlight!);
      retries.inc(shared(p), c.retries);
      durations.zero(shared(p));
      for (const s of p.observations ?? []) durations.observe(shared(p), s);
    }
    const theirs = await own.metrics();
    for (const name of [
      'plugwire_requests_total',
      'plugwire_in_flight',
      'plugwire_retries_total',
      'plugwire_request_duration_seconds',
    ]) {
      sameLines(block(ours, name), block(theirs, name));
    }
  });

  test('leaves the formatting to prom-client when the registry adds default labels', async () => {
    const plugins = variedPlugins(40);
    const source = new FakeSource(plugins);
    const registry = new Registry();
    registry.setDefaultLabels({ region: 'eu "west"' });
    await collect(source, { registry, labels: { service: AWKWARD } });
    const plain = await collect(source, { labels: { service: AWKWARD } });
    fireEvents(source, plugins);

    const families = parseExposition(await registry.metrics());
    const without = parseExposition(await plain.registry.metrics());
    assert.deepEqual([...families.keys()], [...without.keys()]);
    for (const [name, family] of families) {
      const expected = without.get(name)!.samples.map((s) => ({
        ...s,
        labels: { ...s.labels, region: 'eu "west"' },
      }));
      assert.equal(family.samples.length, expected.length, name);
      assert.ok(family.samples.length > 0, name);
      for (const [i, sample] of family.samples.entries()) {
        const e = expected[i]!;
        assert.equal(sample.name, e.name);
        assert.deepEqual(sample.labels, e.labels);
        assert.ok(Object.is(sample.value, e.value), `${sample.name} ${sample.value}`);
      }
    }
  });

  test('writes OpenMetrics as prom-client does: counters renamed once, `_total` on each sample, # EOF', async () => {
    const plugins = variedPlugins(30);
    const source = new FakeSource(plugins);
    const registry = new Registry();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as typeof registry.contentType);
    await collect(source, { registry, labels: { service: AWKWARD } });
    fireEvents(source, plugins);

    const first = await registry.metrics();
    const second = await registry.metrics(); // counters were renamed by the first scrape
    assert.equal(second, first);
    sameLines(first, await formattedByPromClient(registry));
    assert.ok(first.endsWith('\n# EOF\n'));
    assert.match(first, /^# TYPE plugwire_requests counter$/m);
    assert.match(first, /^plugwire_requests_total\{outcome="success",plugin="p0",/m);
    assert.doesNotMatch(first, /_total_total/);
    // Gauges and histograms keep their names.
    assert.match(first, /^plugwire_request_duration_seconds_bucket\{le="\+Inf",plugin="p1",/m);
  });

  test('follows a plugin into a new group and forgets a removed one', async () => {
    const source = new FakeSource([{ name: 'a', group: 'old' }, { name: 'b' }]);
    const { registry } = await collect(source);
    assert.match(await registry.metrics(), /plugwire_in_flight\{plugin="a",group="old"\} 0/);

    source.plugin = [{ name: 'a', group: 'new' }];
    source.emit('plugin-removed', { plugin: 'b' });
    const text = await registry.metrics();
    assert.match(text, /plugwire_in_flight\{plugin="a",group="new"\} 0/);
    assert.doesNotMatch(text, /group="old"/);
    assert.doesNotMatch(text, /plugin="b"/);
  });

  test('passes promtool check metrics with awkward label values and special numbers', async () => {
    const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
    assert.equal(which.status, 0, 'promtool is missing: install Debian package "prometheus"');
    const plugins = variedPlugins(200);
    const source = new FakeSource(plugins);
    const { registry } = await collect(source, { labels: { service: AWKWARD } });
    fireEvents(source, plugins);
    const exposition = await registry.metrics();
    assert.match(exposition, / Nan\n/);
    const check = spawnSync(which.stdout.trim(), ['check', 'metrics'], {
      input: exposition,
      encoding: 'utf8',
    });
    assert.equal(check.error, undefined);
    assert.equal(`${check.stdout}${check.stderr}`.trim(), '', 'promtool reported problems');
    assert.equal(check.status, 0);
  });
});
