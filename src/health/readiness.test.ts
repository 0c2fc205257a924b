import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReadinessConfig } from '../config/types.js';
import type { HealthState } from '../types.js';
import {
  ReadinessTracker,
  computeReadiness,
  type PluginReadinessInput,
  type ReadinessReport,
} from './readiness.js';

function plugin(
  name: string,
  state: PluginReadinessInput['state'],
  health: HealthState = state === 'ready' ? 'healthy' : 'unknown',
  extra: Partial<PluginReadinessInput> = {},
): PluginReadinessInput {
  return {
    name,
    state,
    health: { status: health, lastCheck: health === 'unknown' ? 0 : 1, responseTimeMs: 1 },
    startAttempts: state === 'pending' ? 0 : 1,
    maxAttempts: 5,
    enabled: true,
    ...extra,
  };
}

const attempted: ReadinessConfig = { policy: 'attempted', required: [] };

function readiness(
  plugins: PluginReadinessInput[],
  config: ReadinessConfig = attempted,
  initial: string[] | undefined = plugins.map((p) => p.name),
): ReadinessReport {
  return computeReadiness({ initial, plugins, config });
}

describe('readiness: startup gate', () => {
  test('is not ready before the first load', () => {
    const report = computeReadiness({ initial: undefined, plugins: [], config: attempted });
    assert.equal(report.ready, false);
    assert.equal(report.code, 'not-loaded');
  });

  test('a pending or starting initial plugin keeps the manager unready', () => {
    for (const state of ['pending', 'starting'] as const) {
      const report = readiness([plugin('a', 'ready'), plugin('b', state)]);
      assert.equal(report.ready, false, state);
      assert.equal(report.code, 'starting');
      assert.match(report.reason, /1 of 2 initial plugins still starting: b/);
      assert.equal(report.initial.pending, 1);
    }
  });

  test('an initial name with no plugin behind it is waited for, never assumed', () => {
    const report = readiness([plugin('a', 'ready')], attempted, ['a', 'ghost']);
    assert.equal(report.ready, false);
    assert.equal(report.code, 'starting');
    assert.equal(report.initial.plugins.ghost?.lastError, 'not loaded');
  });

  test('an empty initial set is ready under the attempted policy', () => {
    assert.equal(readiness([], attempted, []).ready, true);
  });

  test('a disabled initial plugin counts as finished, not as ready', () => {
    const report = readiness([
      plugin('a', 'ready'),
      plugin('b', 'pending', 'unknown', { enabled: false }),
    ]);
    assert.equal(report.ready, true);
    assert.equal(report.initial.ready, 1);
    assert.equal(report.initial.pending, 0);
  });

  test('a settled initial plugin that restarts does not bring back the startup gate', () => {
    const report = computeReadiness({
      initial: ['a'],
      plugins: [plugin('a', 'starting')],
      config: attempted,
      settled: new Set(['a']),
    });
    assert.equal(report.ready, true);
  });

  test('a manager shutting down is never ready', () => {
    const report = computeReadiness({
      initial: ['a'],
      plugins: [plugin('a', 'ready')],
      config: attempted,
      shuttingDown: true,
    });
    assert.equal(report.ready, false);
    assert.equal(report.code, 'shutting-down');
  });
});

describe('readiness: policies', () => {
  test('attempted: ready once every initial plugin finished, even if all failed', () => {
    const report = readiness([plugin('a', 'failed'), plugin('b', 'failed')]);
    assert.equal(report.ready, true);
    assert.equal(report.initial.failed, 2);
    assert.match(report.reason, /all 2 initial plugins finished starting/);
  });

  test('healthy: every initial plugin must be ready and healthy or degraded', () => {
    const config: ReadinessConfig = { policy: 'healthy', required: [] };
    assert.equal(
      readiness([plugin('a', 'ready'), plugin('b', 'ready', 'degraded')], config).ready,
      true,
    );
    for (const other of [
      plugin('b', 'failed'),
      plugin('b', 'ready', 'unhealthy'),
      plugin('b', 'ready', 'unknown'),
    ]) {
      const report = readiness([plugin('a', 'ready'), other], config);
      assert.equal(report.ready, false, `${other.state}/${other.health.status}`);
      assert.equal(report.code, 'policy');
      assert.match(report.reason, /b \(/);
    }
  });

  test('healthy: a plugin whose health checks are off is not waited for on its unknown health', () => {
    const config: ReadinessConfig = { policy: 'healthy', required: [] };
    const unchecked = plugin('a', 'ready', 'unknown', { healthChecks: false });
    assert.equal(readiness([unchecked], config).ready, true);
  });

  test('minReady: at least n initial plugins ready', () => {
    const config: ReadinessConfig = { policy: { minReady: 2 }, required: [] };
    const one = readiness(
      [plugin('a', 'ready'), plugin('b', 'failed'), plugin('c', 'failed')],
      config,
    );
    assert.equal(one.ready, false);
    assert.equal(one.code, 'policy');
    assert.match(one.reason, /only 1 of 3/);
    const two = readiness(
      [plugin('a', 'ready'), plugin('b', 'ready'), plugin('c', 'failed')],
      config,
    );
    assert.equal(two.ready, true);
  });

  test('minReady: runtime plugins do not count toward n', () => {
    const config: ReadinessConfig = { policy: { minReady: 2 }, required: [] };
    const report = readiness([plugin('a', 'ready'), plugin('late', 'ready')], config, ['a']);
    assert.equal(report.ready, false);
  });
});

describe('readiness: required plugins', () => {
  const config: ReadinessConfig = { policy: 'attempted', required: ['vault'] };

  test('a required plugin that failed to start keeps the manager unready', () => {
    const report = readiness([plugin('a', 'ready'), plugin('vault', 'failed')], config);
    assert.equal(report.ready, false);
    assert.equal(report.code, 'required');
    assert.deepEqual(report.required, { vault: false });
    assert.match(report.reason, /vault \(failed/);
  });

  test('a required plugin that is ready but unhealthy or offline keeps it unready', () => {
    for (const health of ['unhealthy', 'offline'] as const) {
      const report = readiness([plugin('vault', 'ready', health)], config);
      assert.equal(report.ready, false, health);
      assert.deepEqual(report.required, { vault: false });
    }
  });

  test('a required plugin that is ready and not yet checked, degraded or healthy is fine', () => {
    for (const health of ['unknown', 'degraded', 'healthy'] as const) {
      const report = readiness([plugin('vault', 'ready', health)], config);
      assert.equal(report.ready, true, health);
      assert.deepEqual(report.required, { vault: true });
    }
  });

  test('a disabled required plugin keeps the manager unready', () => {
    const report = readiness([plugin('vault', 'ready', 'healthy', { enabled: false })], config);
    assert.equal(report.ready, false);
    assert.match(report.reason, /vault \(disabled\)/);
  });
});

describe('readiness: runtime plugins', () => {
  test('a runtime plugin still starting or failed never makes a ready manager unready', () => {
    for (const policy of ['attempted', 'healthy', { minReady: 1 }] as const) {
      const config: ReadinessConfig = { policy, required: [] };
      const report = readiness(
        [plugin('a', 'ready'), plugin('late', 'starting'), plugin('broken', 'failed')],
        config,
        ['a'],
      );
      assert.equal(report.ready, true, JSON.stringify(policy));
      assert.equal(report.runtime.total, 2);
      assert.equal(report.runtime.pending, 1);
      assert.equal(report.runtime.failed, 1);
      assert.equal(report.initial.total, 1);
    }
  });

  test('the report lists each plugin with its state, health, attempts and last error', () => {
    const failed = plugin('b', 'failed', 'unknown', {
      startAttempts: 5,
      lastError: 'ECONNREFUSED',
    });
    const report = readiness([plugin('a', 'ready'), failed], attempted, ['b']);
    assert.deepEqual(report.initial.plugins.b, {
      state: 'failed',
      health: 'unknown',
      enabled: true,
      attempts: 5,
      maxAttempts: 5,
      lastError: 'ECONNREFUSED',
    });
    assert.equal(report.runtime.plugins.a?.state, 'ready');
  });
});

describe('ReadinessTracker', () => {
  test('locks the initial set once: a later load adds runtime plugins only', () => {
    const tracker = new ReadinessTracker(attempted);
    assert.equal(tracker.lock(['a']), true);
    assert.equal(tracker.lock(['a', 'b']), false);
    const report = tracker.update([plugin('a', 'ready'), plugin('b', 'starting')]);
    assert.equal(report.ready, true);
    assert.equal(tracker.report, report);
  });

  test('remembers initial plugins that finished, so a restart keeps it ready', () => {
    const tracker = new ReadinessTracker(attempted);
    tracker.lock(['a']);
    assert.equal(tracker.update([plugin('a', 'starting')]).ready, false);
    assert.equal(tracker.update([plugin('a', 'ready')]).ready, true);
    assert.equal(tracker.update([plugin('a', 'starting')]).ready, true);
  });

  test('forgetting a removed initial plugin stops the wait for it', () => {
    const tracker = new ReadinessTracker(attempted);
    tracker.lock(['a', 'b']);
    assert.equal(tracker.update([plugin('a', 'ready')]).ready, false);
    tracker.forget('b');
    assert.equal(tracker.update([plugin('a', 'ready')]).ready, true);
  });

  test('calls onChange when ready flips, and shutdown() makes it unready', () => {
    const flips: boolean[] = [];
    const tracker = new ReadinessTracker(attempted, (report) => flips.push(report.ready));
    tracker.lock(['a']);
    tracker.update([plugin('a', 'starting')]);
    tracker.update([plugin('a', 'ready')]);
    tracker.update([plugin('a', 'ready', 'degraded')]);
    assert.equal(tracker.shutdown().code, 'shutting-down');
    assert.deepEqual(flips, [true, false]);
  });
});
