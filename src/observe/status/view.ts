import { redactSecrets } from '../../errors.js';
import type { ReadinessReport } from '../../health/readiness.js';
import type { PluginSnapshot } from '../../pipeline/PluginSlot.js';
import type { CounterSnapshot, MetricsOptions } from '../stats.js';
import { RollingWindow, WINDOW_BOUNDS_MS, toSample, type CounterSample } from './window.js';

/** What the status page reads. A `Manager` satisfies it. */
export interface StatusSource {
  plugins(): PluginSnapshot[];
  metrics(options?: MetricsOptions): {
    global: CounterSnapshot;
    plugins: Record<string, CounterSnapshot>;
  };
  readiness(): ReadinessReport;
  /** Needed only when the page offers enable/disable. */
  setEnabled?(name: string, enabled: boolean): Promise<void>;
}

/**
 * One plugin in `/status.json`. Rates, error rate and percentiles are over
 * `StatusDocument.windowSeconds` (the last minute once someone has watched for a minute), at
 * the attempt level; `null` until the window spans some time.
 */
export interface PluginStatus {
  name: string;
  group: string | null;
  transport: string;
  state: string;
  enabled: boolean;
  health: string;
  /** The health check's message (redacted), if any. */
  healthMessage: string | null;
  /** `closed` | `open` | `half-open`, or `null` when the plugin has no breaker. */
  breaker: string | null;
  consecutiveFailures: number;
  inFlight: number;
  callsPerSecond: number | null;
  /** Failed attempts / finished attempts in the window (0..1). */
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Errors of the window's attempts by code (`PLUGIN_1203`, `CIRCUIT_1401`, …), most frequent first. */
  errorCodes: Record<string, number>;
  /**
   * The last startup or health-check error, else the health message of a plugin not healthy
   * (redacted, one line, at most 300 characters). Calls' own errors are counted in `errorCodes`:
   * keeping their messages would cost every failed call, and they may quote request data.
   */
  lastError: string | null;
}

/** One group in `/status.json`: its members' figures summed (percentiles over all of them). */
export interface GroupStatus {
  name: string;
  members: string[];
  /** Members that would be picked now: enabled, started, not offline, breaker not open. */
  available: number;
  inFlight: number;
  callsPerSecond: number | null;
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** The body of `GET /status.json`: a stable, documented shape for scripts (docs/operations.md). */
export interface StatusDocument {
  /** Bumped on an incompatible change of this shape. */
  version: 1;
  generatedAt: string;
  /** Seconds the rates cover (0 on the first read: nothing to diff against yet). */
  windowSeconds: number;
  ready: boolean;
  readiness: { code: string; reason: string };
  /** Whether the page offers actions (a token is still needed to use them). */
  actions: { enable: boolean; reload: boolean };
  plugins: PluginStatus[];
  groups: GroupStatus[];
}

const MAX_MESSAGE = 300;

/** Builds the status document; keeps the rolling window between reads. */
export class StatusView {
  private readonly window: RollingWindow;

  constructor(
    private readonly source: StatusSource,
    private readonly actions: { enable: boolean; reload: boolean },
    windowMs = 60_000,
  ) {
    this.window = new RollingWindow(windowMs);
  }

  /** Takes a sample (cumulative counters only) if the last one is over a second old. */
  sample(now = Date.now()): void {
    const metrics = this.source.metrics({ latencyBucketsMs: WINDOW_BOUNDS_MS });
    const counters = new Map<string, CounterSample>();
    for (const [name, snapshot] of Object.entries(metrics.plugins)) {
      counters.set(name, toSample(snapshot));
    }
    this.window.add(now, counters);
  }

  read(now = Date.now()): StatusDocument {
    this.sample(now);
    const snapshots = this.source.plugins();
    const readiness = this.source.readiness();
    const plugins = snapshots.map((p) => this.plugin(p));
    const members = new Map<string, PluginSnapshot[]>();
    for (const p of snapshots) {
      if (p.group !== undefined) members.set(p.group, [...(members.get(p.group) ?? []), p]);
    }
    const groups = [...members].map(([name, list]) => this.group(name, list));
    return {
      version: 1,
      generatedAt: new Date(now).toISOString(),
      windowSeconds: Math.round(this.window.seconds * 10) / 10,
      ready: readiness.ready,
      readiness: { code: readiness.code, reason: safe(readiness.reason) ?? '' },
      actions: this.actions,
      plugins,
      groups,
    };
  }

  private plugin(p: PluginSnapshot): PluginStatus {
    const rates = this.window.rates([p.name]);
    return {
      name: p.name,
      group: p.group ?? null,
      transport: p.transport,
      state: p.state,
      enabled: p.enabled,
      health: p.health.status,
      healthMessage: safe(p.health.message),
      breaker: p.breaker?.state ?? null,
      consecutiveFailures: p.breaker?.consecutiveFailures ?? 0,
      inFlight: p.inFlight,
      callsPerSecond: round(rates.callsPerSecond),
      errorRate: round(rates.errorRate, 4),
      p50Ms: round(rates.p50Ms, 3),
      p99Ms: round(rates.p99Ms, 3),
      errorCodes: rates.errorCodes,
      lastError: safe(
        p.lastError ?? (p.health.status === 'healthy' ? undefined : p.health.message),
      ),
    };
  }

  private group(name: string, members: PluginSnapshot[]): GroupStatus {
    const rates = this.window.rates(members.map((m) => m.name));
    return {
      name,
      members: members.map((m) => m.name),
      available: members.filter(isAvailable).length,
      inFlight: members.reduce((sum, m) => sum + m.inFlight, 0),
      callsPerSecond: round(rates.callsPerSecond),
      errorRate: round(rates.errorRate, 4),
      p50Ms: round(rates.p50Ms, 3),
      p99Ms: round(rates.p99Ms, 3),
    };
  }
}

function isAvailable(p: PluginSnapshot): boolean {
  return (
    p.enabled && p.state === 'ready' && p.health.status !== 'offline' && p.breaker?.state !== 'open'
  );
}

/** Messages shown to operators: redacted again (defence in depth), one line, bounded. */
function safe(message: string | undefined): string | null {
  if (message === undefined || message === '') return null;
  const line = redactSecrets(message).replace(/\s+/g, ' ');
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

function round(value: number | undefined, digits = 2): number | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
