import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isConfigError } from '../errors.js';
import { BalancerRegistry, balancerNames, createBalancer } from './registry.js';
import { fakeMembers, request } from './testing/fake.js';
import type { Balancer } from './types.js';

const BUILT_IN = [
  'round-robin',
  'random',
  'least-connections',
  'least-latency',
  'weighted-random',
  'consistent-hash',
  'priority',
  'p2c',
  'adaptive',
];

describe('balancer registry', () => {
  test('creates every built-in strategy by name, each able to pick', () => {
    assert.deepEqual(balancerNames().slice(0, BUILT_IN.length), BUILT_IN);
    const members = fakeMembers(3);
    for (const name of BUILT_IN) {
      const balancer = createBalancer(name, {});
      assert.ok(members.includes(balancer.pick(members, request({ key: 'k' }))!), name);
    }
  });

  test('creates round robin when no strategy is named', () => {
    const balancer = createBalancer();
    const members = fakeMembers(2);
    assert.equal(balancer.pick(members, request())?.name, 'm0');
    assert.equal(balancer.pick(members, request())?.name, 'm1');
  });

  test('rejects an unknown strategy with a ConfigError listing the valid ones', () => {
    assert.throws(
      () => createBalancer('fastest', {}),
      (error) =>
        isConfigError(error) &&
        error.issues[0]!.path === 'strategy' &&
        error.issues[0]!.message.includes('least-latency'),
    );
  });

  test('rejects options a strategy does not know, with a hint', () => {
    assert.throws(
      () => createBalancer('round-robin', { virtualNodes: 10 }),
      (error) => isConfigError(error) && error.issues[0]!.path === 'options.virtualNodes',
    );
    assert.throws(
      () => createBalancer('consistent-hash', { virtualNode: 10 }),
      (error) => isConfigError(error) && error.issues[0]!.message.includes('virtualNodes'),
    );
  });

  test('registers a custom strategy in one registry, which groups of that registry can name', () => {
    const always: Balancer = { pick: (candidates) => candidates.at(-1) };
    const registry = new BalancerRegistry();
    registry.register('last-one', () => always);
    const members = fakeMembers(3);
    assert.equal(registry.create('last-one').pick(members, request())?.name, 'm2');
    assert.ok(registry.names().includes('last-one'));
    // Another registry (another manager), and the built-ins, do not see it.
    assert.ok(!new BalancerRegistry().names().includes('last-one'));
    assert.ok(!balancerNames().includes('last-one'));
  });
});
