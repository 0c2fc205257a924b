import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isConfigError } from '../../errors.js';
import { seededRandom } from '../random.js';
import { createBalancer } from '../registry.js';
import { SCAN_LIMIT } from '../sample.js';
import { FakeMember, fakeMembers, request, tally } from '../testing/fake.js';
import { LeastConnectionsBalancer } from './least-connections.js';

describe('least-connections', () => {
  test('favours the idle member', () => {
    const members = fakeMembers(3);
    members[0]!.inFlight = 3;
    members[2]!.inFlight = 2;
    const balancer = new LeastConnectionsBalancer();
    for (let i = 0; i < 5; i++) assert.equal(balancer.pick(members, request())?.name, 'm1');
  });

  test('picks the member with the fewest in flight when none is idle', () => {
    const members = fakeMembers(4);
    [5, 2, 7, 3].forEach((n, i) => (members[i]!.inFlight = n));
    assert.equal(new LeastConnectionsBalancer().pick(members, request())?.name, 'm1');
  });

  test('shares ties in turn', () => {
    const members = fakeMembers(4);
    const balancer = new LeastConnectionsBalancer();
    const counts = tally(Array.from({ length: 400 }, () => balancer.pick(members, request())));
    assert.deepEqual([...counts.values()], [100, 100, 100, 100]);
  });

  test('evens out in-flight counts as requests pile up', () => {
    const members = fakeMembers(3);
    members[0]!.inFlight = 6;
    const balancer = new LeastConnectionsBalancer();
    for (let i = 0; i < 12; i++) balancer.pick(members, request())!.inFlight++;
    assert.deepEqual(
      members.map((m) => m.inFlight),
      [6, 6, 6],
    );
  });

  test('counts in-flight per unit of weight', () => {
    const heavy = new FakeMember('heavy', { weight: 3 });
    const light = new FakeMember('light', { weight: 1 });
    heavy.inFlight = 2; // 0.67 per unit
    light.inFlight = 1; // 1 per unit
    assert.equal(new LeastConnectionsBalancer().pick([light, heavy], request()), heavy);
  });

  test('ignores members that are not accepted, however idle', () => {
    const members = fakeMembers(2);
    members[0]!.blocked = 'unhealthy';
    members[1]!.inFlight = 50;
    assert.equal(new LeastConnectionsBalancer().pick(members, request())?.name, 'm1');
  });

  test('stays exact up to SCAN_LIMIT members: the one least loaded member every time', () => {
    const members = fakeMembers(SCAN_LIMIT);
    members.forEach((m, i) => (m.inFlight = 2 + (i % 5)));
    members[SCAN_LIMIT - 3]!.inFlight = 1;
    const balancer = new LeastConnectionsBalancer({}, seededRandom(1));
    for (let i = 0; i < 50; i++) {
      assert.equal(balancer.pick(members, request()), members[SCAN_LIMIT - 3]);
    }
  });

  test('in a group of 1,000 strongly prefers idle and lightly loaded members', () => {
    const members = fakeMembers(1_000);
    members.forEach((m, i) => (m.inFlight = i % 10)); // a tenth idle, mean 4.5
    const balancer = new LeastConnectionsBalancer({}, seededRandom(2));
    const loads = Array.from({ length: 5_000 }, () => balancer.pick(members, request())!.inFlight);
    // The least of 8 draws: idle with probability 1 − 0.9⁸ = 57%, mean load 0.68, and 5 or more
    // only when all 8 are (0.5⁸ = 0.4%).
    const idle = loads.filter((n) => n === 0).length / loads.length;
    const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
    const heavy = loads.filter((n) => n >= 5).length / loads.length;
    assert.ok(idle > 0.5, `idle share ${idle}`);
    assert.ok(mean < 0.9, `mean load ${mean}`);
    assert.ok(heavy < 0.01, `share with 5+ in flight ${heavy}`);
  });

  test('in a group of 1,000 spreads picks over the idle members', () => {
    const members = fakeMembers(1_000);
    for (const m of members) m.inFlight = 3;
    for (let i = 0; i < 1_000; i += 100) members[i]!.inFlight = 0;
    const balancer = new LeastConnectionsBalancer({}, seededRandom(3));
    const counts = tally(Array.from({ length: 3_000 }, () => balancer.pick(members, request())));
    // An idle member among 8 draws: 1 − 0.99⁸ = 7.7% of 3,000 picks, about 23 per idle member.
    const idle = members.filter((m) => m.inFlight === 0).map((m) => counts.get(m.name) ?? 0);
    assert.ok(Math.min(...idle) >= 10, `picks per idle member ${idle}`);
  });

  test('in a group of 1,000 finds the only accepted member', () => {
    const members = fakeMembers(1_000);
    for (const m of members) m.blocked = 'circuit-open';
    members[737]!.blocked = undefined;
    members[737]!.inFlight = 4;
    const balancer = new LeastConnectionsBalancer({}, seededRandom(4));
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick(members, request()), members[737]);
  });

  test('in a group of 1,000 where few are accepted, picks the least loaded of them exactly', () => {
    const members = fakeMembers(1_000);
    for (const m of members) m.blocked = 'draining';
    [100, 300, 500, 700, 900].forEach((at, i) => {
      members[at]!.blocked = undefined;
      members[at]!.inFlight = [3, 2, 4, 1, 5][i]!;
    });
    const balancer = new LeastConnectionsBalancer({}, seededRandom(5));
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick(members, request()), members[700]);
  });

  test('compares choices members per pick in a large group', () => {
    const members = fakeMembers(1_000);
    for (const m of members) m.inFlight = 1;
    let asked = 0;
    const counting = request({ accepts: (c) => (asked++, c.available) });
    const balancer = createBalancer(
      'least-connections',
      { choices: 3 },
      { random: seededRandom(6) },
    );
    balancer.pick(members, counting);
    assert.equal(asked, 3);
  });

  test('rejects a choices option that is not a whole number from 2 to 64', () => {
    assert.doesNotThrow(() => createBalancer('least-connections', { choices: 64 }));
    for (const choices of [1, 65, 2.5, '8']) {
      assert.throws(
        () => createBalancer('least-connections', { choices }),
        (error) => isConfigError(error) && error.issues[0]?.path === 'options.choices',
        String(choices),
      );
    }
  });
});
