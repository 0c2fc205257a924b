import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from './random.js';
import { Sample, SCAN_LIMIT } from './sample.js';
import { fakeMembers, request } from './testing/fake.js';
import type { Candidate } from './types.js';

const byInFlight = (candidate: Candidate): number => candidate.inFlight;

/** A request that accepts available members and records every member it was asked about. */
function recording(): { asked: Candidate[]; request: ReturnType<typeof request> } {
  const asked: Candidate[] = [];
  return {
    asked,
    request: request({ accepts: (c) => (asked.push(c), c.available) }),
  };
}

describe('Sample', () => {
  test('leaves groups of up to SCAN_LIMIT members, and up to 2 × choices, to the scan', () => {
    const sample = new Sample(8, seededRandom(1));
    assert.equal(sample.best(fakeMembers(SCAN_LIMIT), request(), byInFlight, 0), -1);
    assert.equal(sample.covers(SCAN_LIMIT + 1), true);
    const wide = new Sample(40, seededRandom(1));
    assert.equal(wide.covers(80), false);
    assert.equal(wide.covers(81), true);
  });

  test('draws choices distinct members and returns the best of them', () => {
    const members = fakeMembers(200);
    members.forEach((m, i) => (m.inFlight = 1 + ((i * 7) % 13)));
    const sample = new Sample(8, seededRandom(2));
    for (let pick = 0; pick < 200; pick++) {
      const { asked, request: req } = recording();
      const index = sample.best(members, req, byInFlight, 0);
      assert.equal(asked.length, 8);
      assert.equal(new Set(asked).size, 8, 'a member was drawn twice in one pick');
      assert.equal(members[index]!.inFlight, Math.min(...asked.map((c) => c.inFlight)));
      assert.ok(asked.includes(members[index]!));
    }
  });

  test('stops drawing at a member that scores 0', () => {
    const members = fakeMembers(100); // all idle
    const { asked, request: req } = recording();
    const index = new Sample(8, seededRandom(3)).best(members, req, byInFlight, 0);
    assert.equal(asked.length, 1);
    assert.equal(asked[0], members[index]);
  });

  test('draws every member about equally often over many picks', () => {
    const members = fakeMembers(50);
    for (const m of members) m.inFlight = 1;
    const counts = new Map<Candidate, number>();
    const req = request({ accepts: (c) => (counts.set(c, (counts.get(c) ?? 0) + 1), true) });
    const sample = new Sample(5, seededRandom(4));
    for (let pick = 0; pick < 2_000; pick++) sample.best(members, req, byInFlight, 0);
    // 10,000 draws over 50 members: 200 each on average.
    const seen = members.map((m) => counts.get(m) ?? 0);
    assert.ok(Math.min(...seen) > 150 && Math.max(...seen) < 250, `draws per member ${seen}`);
  });

  test('never returns the excluded member', () => {
    const members = fakeMembers(40);
    for (const m of members) m.inFlight = 3;
    members[7]!.inFlight = 0;
    const sample = new Sample(8, seededRandom(5));
    for (let pick = 0; pick < 500; pick++) {
      assert.notEqual(sample.best(members, request(), byInFlight, 0, 7), 7);
    }
  });

  test('gives up after 4 × choices draws when fewer than two are accepted: the caller scans', () => {
    const members = fakeMembers(1_000);
    for (const m of members) m.blocked = 'circuit-open';
    members[500]!.blocked = undefined;
    members[500]!.inFlight = 2;
    const { asked, request: req } = recording();
    assert.equal(new Sample(8, seededRandom(6)).best(members, req, byInFlight, 0), -1);
    assert.equal(asked.length, 32);
  });

  test('follows a change of membership', () => {
    const sample = new Sample(4, seededRandom(7));
    const small = fakeMembers(50);
    for (const m of small) m.inFlight = 1;
    sample.best(small, request(), byInFlight, 0);
    const large = fakeMembers(500);
    for (const m of large) m.inFlight = 1;
    const picked = new Set<number>();
    for (let pick = 0; pick < 2_000; pick++)
      picked.add(sample.best(large, request(), byInFlight, 0));
    assert.ok(Math.max(...picked) >= 450, 'members past the old size are never drawn');
  });
});
