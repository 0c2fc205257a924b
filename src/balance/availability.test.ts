import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RETRY_BUDGET, pluginConfig } from '../config/defaults.js';
import type { PluginConfig } from '../config/types.js';
import { PluginSlot } from '../pipeline/PluginSlot.js';
import type { Plugin } from '../types.js';
import { blockReason } from './availability.js';

function slot(overrides: Partial<PluginConfig> = {}) {
  const config = pluginConfig({ name: 'p', transport: 'memory', ...overrides });
  config.circuitBreaker.failureThreshold = 1;
  config.circuitBreaker.recoveryTimeout = 60_000;
  const plugin = { name: config.name } as unknown as Plugin; // never called here
  const result = new PluginSlot(plugin, config, DEFAULT_RETRY_BUDGET, () => {});
  result.state = 'ready';
  return result;
}

describe('blockReason (on a real PluginSlot)', () => {
  test('a ready slot with unknown or degraded health is available', () => {
    const ready = slot();
    assert.equal(blockReason(ready), undefined);
    ready.health = { status: 'degraded', lastCheck: 1, responseTimeMs: 3 };
    assert.equal(blockReason(ready), undefined);
  });

  test('a disabled slot is blocked as disabled, whatever its state', () => {
    const disabled = slot({ enabled: false });
    assert.equal(blockReason(disabled), 'disabled');
  });

  test('lifecycle states block: starting, failed, draining, closed', () => {
    const s = slot();
    const cases = [
      ['pending', 'starting'],
      ['starting', 'starting'],
      ['failed', 'failed'],
      ['draining', 'draining'],
      ['closed', 'closed'],
    ] as const;
    for (const [state, reason] of cases) {
      s.state = state;
      assert.equal(blockReason(s), reason);
    }
  });

  test('an open breaker blocks before health does', () => {
    const s = slot();
    s.health = { status: 'unhealthy', lastCheck: 1, responseTimeMs: 3 };
    assert.equal(blockReason(s), 'unhealthy');
    s.breaker!.onFailure(s.breaker!.tryAcquire());
    assert.equal(s.breaker!.state, 'open');
    assert.equal(blockReason(s), 'circuit-open');
  });

  test('unhealthy and offline health block as unhealthy', () => {
    const s = slot();
    for (const status of ['unhealthy', 'offline'] as const) {
      s.health = { status, lastCheck: 1, responseTimeMs: 0 };
      assert.equal(blockReason(s), 'unhealthy');
    }
  });
});
