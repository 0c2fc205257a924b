/**
 * Prometheus metrics for a manager, through `prom-client` (an optional peer: imported only when
 * {@link collectPrometheus} runs). Values are read from the manager's own counters when Prometheus
 * scrapes, so calls pay nothing for the exporter; only state transitions (breaker, health checks,
 * startup attempts) are counted from events.
 */
import { ErrorCode, PluginError } from '../errors.js';
import type { CircuitState, ManagerEvents, ManagerListener } from '../events.js';
import type { ReadinessReport } from '../health/readiness.js';
import type { MetricsSnapshot } from './metricsSnapshot.js';
import type { PluginSnapshot, PluginState } from '../pipeline/PluginSlot.js';
import type { HealthState } from '../types.js';
import { outcomeOfCode } from './outcome.js';
import { clusterMetrics } from './prometheusCluster.js';
import type { ClusterStatus } from '../cluster/status.js';
import type { PrometheusRegistryLike } from './peerTypes.js';
import type { CounterSnapshot, LatencyBuckets, MetricsOptions } from './stats.js';
import {
  LineCache,
  MergedLabels,
  MetricLines,
  NO_LABELS,
  PLAIN,
  SampleSink,
  TextSink,
  series,
  textSafe,
  type Labels,
  type MetricValue,
  type Series,
  type Sink,
} from './promText.js';

/** Default `le` bounds of the duration histograms, seconds: 1 ms to 30 s. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);

/** What the exporter reads. A `Manager` satisfies it. */
export interface MetricsSource {
  metrics(options?: MetricsOptions): MetricsSnapshot;
  plugins(): PluginSnapshot[];
  readiness(): ReadinessReport;
  on<K extends keyof ManagerEvents>(event: K, listener: ManagerListener<K>): () => void;
  /** Cluster mode's status; the `cluster_*` series exist only when it returns one. */
  cluster?(): ClusterStatus | undefined;
}

/** Options of {@link collectPrometheus}. */
export interface PrometheusOptions {
  /**
   * The prom-client `Registry` to register the metrics in. Default: prom-client's global
   * registry (`register`). Its default labels (`setDefaultLabels()`) are added to every series;
   * set them on this registry, not on one merged from it later (`Registry.merge()`): the
   * exporter writes its own lines for a registry without default labels, and prom-client would
   * append a merged registry's to the end of some of those lines.
   */
  registry?: PrometheusRegistryLike | undefined;
  /** Prefix of every metric name. Default `plugwire_`. */
  prefix?: string | undefined;
  /** Constant labels added to every series, e.g. `{ service: 'checkout' }`. */
  labels?: Record<string, string> | undefined;
  /** `le` bounds of the duration histograms, seconds, ascending. Default {@link DEFAULT_DURATION_BUCKETS}. */
  buckets?: readonly number[] | undefined;
}

/** A running exporter. */
export interface PrometheusCollector {
  /** Unregisters every metric and unsubscribes from the manager. Idempotent. */
  stop(): void;
}

/**
 * Emitted once per health check by managers that report them (`health-check`); until then
 * `health_checks_total` stays empty.
 */
interface HealthCheckEvent {
  plugin: string;
  status: HealthState;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const OWN_LABELS = ['plugin', 'group', 'outcome', 'code', 'status', 'state', 'result', 'to', 'le'];
const HEALTH_STATES: readonly HealthState[] = [
  'unknown',
  'healthy',
  'degraded',
  'unhealthy',
  'offline',
];
const PLUGIN_STATES: readonly PluginState[] = [
  'pending',
  'starting',
  'ready',
  'failed',
  'draining',
  'closed',
];
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Exposes a manager's metrics in a prom-client registry. Serve them with
 * `await registry.metrics()` (content type `registry.contentType`), e.g. next to the probe
 * handler; docs/observability.md lists every metric with its labels and PromQL to start from.
 *
 * ```ts
 * const metrics = await collectPrometheus(manager, { labels: { service: 'checkout' } });
 * // ... later
 * metrics.stop();
 * ```
 *
 * Labels are bounded: plugin, group, outcome, error code, status; never request ids, keys or
 * operations. Subscribe before `load()` to count the first startup attempts.
 *
 * @throws PluginError `PLUGIN_1000` for an invalid prefix, label name or bucket list, or when
 * `prom-client` is not installed; prom-client throws when a metric of the same name is already
 * registered (one collector per registry and prefix).
 */
export async function collectPrometheus(
  manager: MetricsSource,
  options: PrometheusOptions = {},
): Promise<PrometheusCollector> {
  const prefix = options.prefix ?? 'plugwire_';
  const constant = { ...options.labels };
  const buckets = options.buckets ?? DEFAULT_DURATION_BUCKETS;
  validate(prefix, constant, buckets);
  const registry = options.registry ?? (await loadPromClient()).register;
  return new Exporter(manager, registry, prefix, constant, buckets);
}

async function loadPromClient(): Promise<typeof import('prom-client')> {
  try {
    return await import('prom-client');
  } catch (error) {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      'collectPrometheus() needs the optional peer dependency prom-client: npm install prom-client',
      { cause: error },
    );
  }
}

function validate(prefix: string, labels: Record<string, string>, buckets: readonly number[]) {
  const problems: string[] = [];
  if (!METRIC_NAME.test(`${prefix}x`)) problems.push(`prefix '${prefix}' is not a metric name`);
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      problems.push(`label '${name}' is not a Prometheus label name`);
    } else if (OWN_LABELS.includes(name)) {
      problems.push(`label '${name}' is set by plugwire itself`);
    }
  }
  const ascending = buckets.every(
    (b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]!),
  );
  if (!ascending) problems.push('buckets must be positive, finite and ascending');
  if (problems.length > 0) {
    throw new PluginError(ErrorCode.InvalidConfig, `collectPrometheus(): ${problems.join('; ')}`);
  }
}

/** What one scrape reads from the manager, shared by every metric of that scrape. */
interface ScrapeData {
  metrics: MetricsSnapshot;
  plugins: PluginSnapshot[];
  ready: boolean;
}

class Exporter implements PrometheusCollector {
  private readonly names: string[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  /** Group of each plugin, for the labels of event counters. */
  private readonly groups = new Map<string, string | undefined>();
  /**
   * The labels each plugin's series share (`plugin`, `group`, the constant labels): one frozen
   * object per plugin, kept while its group stays; the formatted text of its series is cached
   * by this object.
   */
  private readonly shared = new Map<string, { group: string | undefined; labels: Labels }>();
  private readonly constant: Labels;
  private readonly boundsMs: readonly number[];
  /** The formatted `name{labels}` of every series, kept from scrape to scrape. */
  private readonly lines = new LineCache();
  private scrape: ScrapeData | undefined;
  private stopped = false;

  private readonly circuitTransitions = new Tally();
  private readonly healthChecks = new Tally();
  private readonly healthTransitions = new Tally();
  private readonly startupAttempts = new Tally();
  private readonly ejections = new Tally();
  /** 1 while a plugin is ejected from its group, 0 once back (plugins seen ejected only). */
  private readonly ejected = new Map<string, number>();

  constructor(
    private readonly source: MetricsSource,
    private readonly registry: PrometheusRegistryLike,
    prefix: string,
    constant: Record<string, string>,
    private readonly buckets: readonly number[],
  ) {
    this.constant = Object.freeze({ ...constant });
    this.boundsMs = buckets.map((s) => s * 1000);
    for (const p of source.plugins()) this.groups.set(p.name, p.group);
    try {
      this.register(prefix);
    } catch (error) {
      this.stop(); // a name already taken: leave the registry as it was
      throw error;
    }
    this.subscribe();
  }

  private register(prefix: string): void {
    const { registry, constant } = this;
    const le = bucketSeries(this.buckets);

    const metric = (name: string, help: string, type: MetricType, read: Reader): void => {
      const full = prefix + name;
      // prom-client's registry takes any object with its metric shape (name, get(), reset()).
      const text = this.lines.metric(full);
      registry.registerMetric(new ReadMetric(full, help, type, read, registry, text));
      this.names.push(full);
    };
    const perPlugin =
      (pick: (c: CounterSnapshot) => number): Reader =>
      (sink) => {
        for (const [name, c] of Object.entries(this.data().metrics.plugins)) {
          sink.add(this.labelsFor(name), PLAIN, pick(c));
        }
      };

    metric(
      'requests_total',
      'Attempts sent to each plugin, by outcome and error code (retries count once each).',
      'counter',
      (sink) => {
        for (const [name, c] of Object.entries(this.data().metrics.plugins)) {
          outcomes(sink, this.labelsFor(name), c);
        }
      },
    );
    metric(
      'request_duration_seconds',
      'Duration of the attempts on each plugin, seconds.',
      'histogram',
      (sink) => {
        for (const [name, c] of Object.entries(this.data().metrics.plugins)) {
          histogram(sink, this.labelsFor(name), c, le);
        }
      },
    );
    metric(
      'calls_total',
      'Calls to execute() as their callers saw them (after retries), by outcome and error code.',
      'counter',
      (sink) => outcomes(sink, constant, this.data().metrics.global),
    );
    metric(
      'call_duration_seconds',
      'Duration of execute() calls, all attempts and backoff included, seconds.',
      'histogram',
      (sink) => histogram(sink, constant, this.data().metrics.global, le),
    );
    metric(
      'in_flight',
      'Attempts running now on each plugin.',
      'gauge',
      perPlugin((c) => c.inFlight),
    );
    metric(
      'retries_total',
      'Retries started after a failed attempt on each plugin.',
      'counter',
      perPlugin((c) => c.retries),
    );
    metric(
      'rate_limited_total',
      "Attempts refused by each plugin's rate limiter.",
      'counter',
      perPlugin((c) => c.rateLimited),
    );
    metric(
      'circuit_rejected_total',
      "Attempts refused by each plugin's open circuit breaker.",
      'counter',
      perPlugin((c) => c.circuitRejected),
    );
    metric(
      'queue_rejected_total',
      "Calls refused at once because the plugin's queue was full (connection.maxPending).",
      'counter',
      perPlugin((c) => c.queueRejected),
    );
    metric(
      'circuit_state',
      'Circuit breaker state of each plugin: 0 closed, 1 half-open, 2 open.',
      'gauge',
      (sink) => {
        for (const p of this.data().plugins) {
          if (p.breaker !== undefined) {
            sink.add(this.labelsFor(p.name), PLAIN, CIRCUIT_VALUE[p.breaker.state]);
          }
        }
      },
    );
    metric(
      'circuit_transitions_total',
      'Circuit breaker transitions of each plugin, by the state entered.',
      'counter',
      (sink) => this.circuitTransitions.write(sink),
    );
    metric(
      'health_status',
      'Last known health of each plugin: 1 for its current status, 0 for the others.',
      'gauge',
      (sink) => {
        for (const p of this.data().plugins) {
          stateSet(sink, this.labelsFor(p.name), HEALTH_SERIES, p.health.status);
        }
      },
    );
    metric(
      'health_transitions_total',
      'Health status changes of each plugin, by the status entered.',
      'counter',
      (sink) => this.healthTransitions.write(sink),
    );
    metric(
      'health_checks_total',
      'Health checks run on each plugin, by result (success: healthy or degraded).',
      'counter',
      (sink) => this.healthChecks.write(sink),
    );
    metric(
      'outlier_ejections_total',
      'Times each plugin was ejected from its group by outlier detection.',
      'counter',
      (sink) => this.ejections.write(sink),
    );
    metric(
      'outlier_ejected',
      'Whether each plugin is ejected from its group now (1) or back (0); plugins ever ejected only.',
      'gauge',
      (sink) => {
        for (const [plugin, value] of this.ejected) sink.add(this.labelsFor(plugin), PLAIN, value);
      },
    );
    metric(
      'plugin_state',
      'Lifecycle state of each plugin: 1 for its current state, 0 for the others.',
      'gauge',
      (sink) => {
        for (const p of this.data().plugins) {
          stateSet(sink, this.labelsFor(p.name), PLUGIN_STATE_SERIES, p.state);
        }
      },
    );
    metric(
      'startup_attempts_total',
      'Start attempts of each plugin (connect or spawn, then a first health check), by result.',
      'counter',
      (sink) => this.startupAttempts.write(sink),
    );
    metric(
      'ready',
      'Whether the manager is ready (see readiness()): 1 ready, 0 not.',
      'gauge',
      (sink) => sink.add(constant, PLAIN, this.data().ready ? 1 : 0),
    );
    if (this.source.cluster?.() !== undefined) {
      // The cluster's series carry the constant labels like every other series.
      const define: Parameters<typeof clusterMetrics>[0] = (name, help, type, read) =>
        metric(name, help, type, (sink) => {
          for (const s of read()) sink.add(constant, series(s.labels), s.value);
        });
      clusterMetrics(define, () => this.source.cluster?.());
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }

  private subscribe(): void {
    const on = <K extends keyof ManagerEvents>(event: K, listener: ManagerListener<K>): void => {
      this.unsubscribe.push(this.source.on(event, listener));
    };
    on('plugin-added', (e) => this.groups.set(e.plugin, e.group));
    const transition = (e: { plugin: string; to: CircuitState }): void =>
      this.circuitTransitions.inc(this.labelsFor(e.plugin), series({ to: e.to }));
    on('circuit-open', transition);
    on('circuit-half-open', transition);
    on('circuit-close', transition);
    on('health-change', (e) =>
      this.healthTransitions.inc(this.labelsFor(e.plugin), series({ to: e.to })),
    );
    on('outlier-ejected', (e) => {
      this.ejections.inc(this.labelsFor(e.plugin), PLAIN);
      this.ejected.set(e.plugin, 1);
    });
    on('outlier-returned', (e) => this.ejected.set(e.plugin, 0));
    on('plugin-removed', (e) => {
      this.ejected.delete(e.plugin);
      // Its cached text goes with this object (the counters from events keep their own).
      this.shared.delete(e.plugin);
    });
    on('startup-attempt-failed', (e) =>
      this.startupAttempts.inc(this.labelsFor(e.plugin), FAILURE),
    );
    on('plugin-state', (e) => {
      // Every way to `ready` is a start attempt that succeeded (first start or recovery).
      if (e.to === 'ready') this.startupAttempts.inc(this.labelsFor(e.plugin), SUCCESS);
    });
    // Not in ManagerEvents of every manager: typed loosely so that a source without it still works.
    const onAny = this.source.on as unknown as (
      event: string,
      listener: (event: HealthCheckEvent) => void,
    ) => () => void;
    this.unsubscribe.push(
      onAny.call(this.source, 'health-check', (e) => {
        const ok = e.status === 'healthy' || e.status === 'degraded';
        this.healthChecks.inc(this.labelsFor(e.plugin), ok ? SUCCESS : FAILURE);
      }),
    );
  }

  /**
   * The manager's state for the scrape in progress. prom-client collects every metric of a scrape
   * in the same tick, so one snapshot serves them all and is dropped right after.
   */
  private data(): ScrapeData {
    if (this.scrape === undefined) {
      const plugins = this.source.plugins();
      for (const p of plugins) this.groups.set(p.name, p.group);
      this.scrape = {
        metrics: this.source.metrics({ latencyBucketsMs: this.boundsMs }),
        plugins,
        ready: this.source.readiness().ready,
      };
      queueMicrotask(() => (this.scrape = undefined));
    }
    return this.scrape;
  }

  /** `{ plugin, group }` (group only when the plugin has one) and the constant labels. */
  private labelsFor(plugin: string): Labels {
    const group = this.groups.get(plugin);
    const cached = this.shared.get(plugin);
    if (cached !== undefined && cached.group === group) return cached.labels;
    const own: Labels = group === undefined ? { plugin } : { plugin, group };
    const labels = Object.freeze({ ...own, ...this.constant });
    this.shared.set(plugin, { group, labels });
    return labels;
  }
}

type MetricType = 'counter' | 'gauge' | 'histogram';
/** Writes a metric's series for one scrape. */
type Reader = (sink: Sink) => void;

const SUCCESS = series({ result: 'success' });
const FAILURE = series({ result: 'failure' });
const OUTCOME_SUCCESS = series({ outcome: 'success' });
const SUM = series(NO_LABELS, '_sum');
const COUNT = series(NO_LABELS, '_count');
const HEALTH_SERIES = stateSeries('status', HEALTH_STATES);
const PLUGIN_STATE_SERIES = stateSeries('state', PLUGIN_STATES);
/** `{ outcome, code }` of each error code seen; codes are a bounded set. */
const outcomeSeries = new Map<string, Series>();

/**
 * A metric whose values are read at scrape time. It has the shape prom-client's registry reads
 * (`name`, `help`, `type`, `aggregator`, `get()`, `reset()`), so histograms can be exposed from
 * counts kept elsewhere, which prom-client's own Histogram cannot do. The text exposition reads
 * `getForPromString()`: the lines written here when the registry prints them unchanged, else one
 * value per series with its labels in one cached object (see promText.ts). `get()` (JSON,
 * cluster aggregation, prom-client versions without `getForPromString`) has every label of a
 * series in `labels`.
 */
class ReadMetric {
  readonly aggregator = 'sum';
  private readonly registeredName: string;
  private readonly merged = new MergedLabels();

  constructor(
    /** prom-client's registry renames counters in OpenMetrics format (drops `_total`). */
    public name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly read: Reader,
    private readonly registry: object,
    private readonly lines: MetricLines,
  ) {
    this.registeredName = name;
  }

  async getForPromString(): Promise<MetricValues> {
    const text =
      this.name === this.registeredName && textSafe(this.registry, this.type === 'counter');
    if (text) {
      const sink = new TextSink(this.lines);
      this.read(sink);
      return this.values(sink.values());
    }
    const sink = new SampleSink(this.name, this.merged, true);
    this.read(sink);
    return this.values(sink.values);
  }

  async get(): Promise<MetricValues> {
    const sink = new SampleSink(this.name, this.merged, false);
    this.read(sink);
    return this.values(sink.values);
  }

  /** Values come from the manager: there is nothing here to reset. */
  reset(): void {}

  private values(values: MetricValue[]): MetricValues {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }
}

interface MetricValues {
  name: string;
  help: string;
  type: MetricType;
  aggregator: string;
  values: MetricValue[];
}

/** Counts of events by plugin and series; a counter that only grows. */
class Tally {
  private readonly counts = new Map<string, { shared: Labels; series: Series; value: number }>();

  inc(shared: Labels, s: Series): void {
    const key = JSON.stringify([shared, s]);
    const entry = this.counts.get(key);
    if (entry === undefined) this.counts.set(key, { shared, series: s, value: 1 });
    else entry.value++;
  }

  write(sink: Sink): void {
    for (const { shared, series: s, value } of this.counts.values()) sink.add(shared, s, value);
  }
}

/** `success` plus one series per error code, each under the outcome that code stands for. */
function outcomes(sink: Sink, shared: Labels, c: CounterSnapshot): void {
  sink.add(shared, OUTCOME_SUCCESS, c.success);
  for (const code of Object.keys(c.byCode)) {
    let s = outcomeSeries.get(code);
    if (s === undefined) {
      s = series({ outcome: outcomeOfCode(code), code });
      outcomeSeries.set(code, s);
    }
    sink.add(shared, s, c.byCode[code]!);
  }
}

/** The `_bucket` series of a histogram's bounds, `+Inf` last. */
function bucketSeries(buckets: readonly number[]): Series[] {
  return [...buckets, '+Inf'].map((le) => series({ le }, '_bucket'));
}

/**
 * A histogram's `_bucket`, `_sum` and `_count` series, in seconds. A source that reports no
 * bucket counts still gets a valid histogram: the `+Inf` bucket, sum and count.
 */
function histogram(sink: Sink, shared: Labels, c: CounterSnapshot, le: readonly Series[]): void {
  const h: LatencyBuckets | undefined = c.histogram;
  const finite = le.length - 1;
  if (h !== undefined) {
    for (let i = 0; i < finite; i++) sink.add(shared, le[i]!, h.cumulative[i]!);
  }
  const count = h?.count ?? c.latency.count;
  const sumMs = h?.sumMs ?? c.latency.avg * c.latency.count;
  sink.add(shared, le[finite]!, count);
  sink.add(shared, SUM, sumMs / 1000);
  sink.add(shared, COUNT, count);
}

interface StateSeries<S extends string> {
  states: readonly S[];
  series: readonly Series[];
}

function stateSeries<S extends string>(label: string, states: readonly S[]): StateSeries<S> {
  return { states, series: states.map((state) => series({ [label]: state })) };
}

/** One series per possible state, 1 for the current one: `sum by (status)` counts plugins. */
function stateSet<S extends string>(sink: Sink, shared: Labels, set: StateSeries<S>, now: S): void {
  for (let i = 0; i < set.states.length; i++) {
    sink.add(shared, set.series[i]!, set.states[i] === now ? 1 : 0);
  }
}
