import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../balance/random.js';
import type { ReadinessConfig } from '../config/types.js';
import type { PluginState } from '../pipeline/PluginSlot.js';
import type { HealthState } from '../types.js';
import {
  ReadinessTracker,
  computeReadiness,
  startupFinished,
  type PluginReadinessInput,
  type ReadinessReport,
} from './readiness.js';

/**
 * The reference: readiness recomputed in full from every plugin after each change, as the
 * tracker did before it counted incrementally (O(plugins) per change).
 */
class FullRecomputation {
  initial: Set<string> | undefined;
  readonly settled = new Set<string>();
  readonly plugins = new Map<string, PluginReadinessInput>();
  shuttingDown = false;

  constructor(public config: ReadinessConfig) {}

  report(): ReadinessReport {
    for (const plugin of this.plugins.values()) {
      if (this.initial?.has(plugin.name) === true && startupFinished(plugin)) {
        this.settled.add(plugin.name);
      }
    }
    return computeReadiness({
      initial: this.initial,
      plugins: this.plugins.values(),
      config: this.config,
      settled: this.settled,
      shuttingDown: this.shuttingDown,
    });
  }
}

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const STATES: PluginState[] = ['pending', 'starting', 'ready', 'failed', 'draining', 'closed'];
const HEALTH: HealthState[] = ['unknown', 'healthy', 'degraded', 'unhealthy', 'offline'];

function run(seed: number, steps: number): void {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const subset = (items: readonly string[], p: number): string[] =>
    items.filter(() => random() < p);
  const randomConfig = (): ReadinessConfig => ({
    policy: pick<ReadinessConfig['policy']>([
      'attempted',
      'healthy',
      { minReady: Math.floor(random() * 5) },
    ]),
    // 'ghost' never has a plugin; a name may be required twice.
    required: random() < 0.5 ? [] : [...subset([...NAMES, 'ghost'], 0.2), ...subset(NAMES, 0.1)],
  });
  const randomPlugin = (name: string): PluginReadinessInput => ({
    name,
    state: pick(STATES),
    health: { status: pick(HEALTH), lastCheck: 1, responseTimeMs: 1 },
    startAttempts: Math.floor(random() * 5),
    maxAttempts: 5,
    lastError: random() < 0.3 ? 'ECONNREFUSED' : undefined,
    enabled: random() < 0.85,
    healthChecks: pick([true, false, undefined]),
  });

  const config = randomConfig();
  const flips: boolean[] = [];
  const tracker = new ReadinessTracker(config, (report) => flips.push(report.ready));
  const reference = new FullRecomputation(config);
  const expectedFlips: boolean[] = [];
  let wasReady = reference.report().ready;

  for (let step = 0; step < steps; step++) {
    const roll = random();
    let op: string;
    if (reference.initial === undefined && roll < 0.1) {
      const names = subset([...NAMES, 'ghost'], 0.5);
      const lockConfig = random() < 0.5 ? randomConfig() : reference.config;
      op = `lock(${names.join(',')})`;
      tracker.lock(names, lockConfig);
      reference.initial = new Set(names);
      reference.config = lockConfig;
    } else if (roll < 0.65) {
      const plugin = randomPlugin(pick(NAMES));
      op = `set(${plugin.name} ${plugin.state}/${plugin.health.status} enabled=${plugin.enabled})`;
      tracker.set(plugin);
      reference.plugins.set(plugin.name, plugin);
    } else if (roll < 0.78) {
      const name = pick(NAMES);
      op = `remove(${name})`;
      tracker.remove(name);
      reference.plugins.delete(name);
    } else if (roll < 0.84) {
      const name = pick([...NAMES, 'ghost']);
      op = `forget(${name})`;
      tracker.forget(name);
      reference.initial?.delete(name);
      reference.settled.delete(name);
    } else if (roll < 0.92) {
      const next = randomConfig();
      op = `configure(${JSON.stringify(next)})`;
      tracker.configure(next);
      reference.config = next;
    } else if (roll < 0.995) {
      const plugins = subset(NAMES, 0.6).map(randomPlugin);
      op = `update(${plugins.map((p) => p.name).join(',')})`;
      const report = tracker.update(plugins);
      reference.plugins.clear();
      for (const plugin of plugins) reference.plugins.set(plugin.name, plugin);
      assert.equal(tracker.report, report, 'update() returns the report in force');
    } else {
      op = 'shutdown()';
      tracker.shutdown();
      reference.shuttingDown = true;
    }

    const expected = reference.report();
    const where = `seed ${seed}, step ${step}: ${op}`;
    assert.equal(tracker.ready, expected.ready, `ready, ${where}`);
    assert.equal(tracker.code, expected.code, `code, ${where}`);
    assert.deepEqual(tracker.report, expected, `report, ${where}`);
    if (expected.ready !== wasReady) expectedFlips.push(expected.ready);
    wasReady = expected.ready;
    assert.deepEqual(flips, expectedFlips, `onChange calls, ${where}`);
  }
}

describe('ReadinessTracker: incremental counts', () => {
  test('agree with a full recomputation after every change, across random transitions', () => {
    for (let seed = 1; seed <= 60; seed++) run(seed, 400);
  });

  test('the report is built when read, kept while nothing changes, and rebuilt after a change', () => {
    const tracker = new ReadinessTracker({ policy: 'healthy', required: [] });
    const names = Array.from({ length: 20_000 }, (_, i) => `p${i}`);
    tracker.lock(names);
    const plugin = (name: string, state: PluginState): PluginReadinessInput => ({
      name,
      state,
      health: { status: 'healthy', lastCheck: 1, responseTimeMs: 1 },
      startAttempts: 1,
      maxAttempts: 5,
      enabled: true,
    });
    for (const name of names) tracker.set(plugin(name, 'ready'));
    assert.equal(tracker.ready, true);
    // Reading the report builds it once; a change drops it; the next read builds a new one.
    const before = tracker.report;
    assert.equal(tracker.report, before, 'kept while nothing changes');
    tracker.set(plugin('p7', 'failed'));
    assert.equal(tracker.code, 'policy');
    assert.notEqual(tracker.report, before);
    assert.equal(tracker.report.initial.failed, 1);
  });
});
