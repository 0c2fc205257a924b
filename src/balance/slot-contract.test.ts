/** The contract the pipeline wiring relies on: a PluginSlot is a GroupMember, and GroupRoute over slots is a pipeline Route. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RETRY_BUDGET, pluginConfig } from '../config/defaults.js';
import { PluginSlot, type Route, type RouteRequest } from '../pipeline/PluginSlot.js';
import type { Plugin } from '../types.js';
import { GroupRoute } from './GroupRoute.js';
import { createBalancer } from './registry.js';

function slot(name: string): PluginSlot {
  const plugin = { name } as unknown as Plugin; // never called here
  const member = new PluginSlot(
    plugin,
    pluginConfig({ name, transport: 'memory', group: 'g' }),
    DEFAULT_RETRY_BUDGET,
    () => {},
  );
  member.state = 'ready';
  return member;
}

describe('GroupRoute over PluginSlots', () => {
  test('is a pipeline Route that fails over between real slots', () => {
    const [a, b] = [slot('a'), slot('b')];
    const route: Route = new GroupRoute('g', [a, b], createBalancer('round-robin'));
    const first: RouteRequest = { key: undefined, operation: undefined, tried: [] };
    const picked = route.pick(first);
    assert.equal(picked, a);
    assert.equal(route.pick({ ...first, tried: [a] }), b);
    assert.equal(route.requestTimeout, a.config.connection.requestTimeout);
  });

  test('skips a slot whose breaker is open and a slot being drained', () => {
    const [a, b, c] = [slot('a'), slot('b'), slot('c')];
    for (let i = 0; i < a.config.circuitBreaker.failureThreshold; i++) {
      a.breaker!.onFailure(a.breaker!.tryAcquire());
    }
    b.state = 'draining';
    const route = new GroupRoute('g', [a, b, c], createBalancer('round-robin'));
    const request: RouteRequest = { key: undefined, operation: undefined, tried: [] };
    assert.equal(route.pick(request), c);
    c.config.enabled = false;
    assert.equal(route.pick(request), undefined);
    assert.match(
      route.unavailable(1).message,
      /1 with an open circuit breaker, 1 draining, 1 disabled/,
    );
  });
});
