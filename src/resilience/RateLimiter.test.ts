import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, type RateLimiterSettings } from './RateLimiter.js';

function limiter(settings: Partial<RateLimiterSettings> = {}) {
  const clock = { t: 0, now: () => clock.t };
  const l = new RateLimiter(
    { requestsPerSecond: 10, burstSize: 5, maxWait: 1_000, ...settings },
    clock.now,
  );
  return { l, clock };
}

test('admits a burst of burstSize calls at once, then refuses', () => {
  const { l } = limiter();
  for (let i = 0; i < 5; i++) assert.equal(l.tryTake(), true, `call ${i}`);
  assert.equal(l.tryTake(), false);
});

test('refills lazily at requestsPerSecond', () => {
  const { l, clock } = limiter();
  for (let i = 0; i < 5; i++) l.tryTake();
  clock.t += 99;
  assert.equal(l.tryTake(), false);
  clock.t += 1;
  assert.equal(l.tryTake(), true, 'one token every 100 ms at 10/s');
  assert.equal(l.tryTake(), false);
});

test('never refills beyond burstSize, however long it was idle', () => {
  const { l, clock } = limiter();
  clock.t += 3_600_000;
  let admitted = 0;
  while (l.tryTake()) admitted++;
  assert.equal(admitted, 5);
});

test('reserve() returns 0 and takes the token when one is available', () => {
  const { l } = limiter({ burstSize: 1 });
  assert.equal(l.reserve(), 0);
  assert.equal(l.tryTake(), false);
});

test('reserve() serves waiters in order, each one token-interval after the previous', () => {
  const { l } = limiter({ burstSize: 1 });
  assert.equal(l.reserve(), 0);
  assert.deepEqual([l.reserve(), l.reserve(), l.reserve()], [100, 200, 300]);
});

test('reserve() returns -1 and reserves nothing when the wait would exceed maxWaitMs', () => {
  const { l, clock } = limiter({ burstSize: 1 });
  l.reserve();
  assert.equal(l.reserve(50), -1);
  assert.equal(l.reserve(0), -1);
  clock.t += 100;
  assert.equal(l.reserve(0), 0, 'the refused calls left no debt behind');
});

test('reserve() uses the configured maxWait by default', () => {
  const { l } = limiter({ burstSize: 1, maxWait: 150 });
  l.reserve();
  assert.equal(l.reserve(), 100);
  assert.equal(l.reserve(), -1);
});

test('tryTake() does not jump ahead of reserved waiters', () => {
  const { l, clock } = limiter({ burstSize: 1 });
  l.reserve();
  assert.equal(l.reserve(), 100);
  clock.t += 100; // the waiter's token has been earned and is theirs
  assert.equal(l.tryTake(), false);
  clock.t += 100;
  assert.equal(l.tryTake(), true);
});

test('refund() gives an unused token back', () => {
  const { l } = limiter({ burstSize: 1 });
  l.reserve();
  assert.equal(l.reserve(), 100);
  l.refund(); // the waiter gave up
  assert.equal(l.reserve(), 100, 'the next waiter takes its place, not the place after it');
});

test('a rate of 0 refuses every wait instead of waiting forever', () => {
  const { l } = limiter({ requestsPerSecond: 0, burstSize: 1 });
  assert.equal(l.reserve(), 0);
  assert.equal(l.reserve(1_000_000), -1);
});

test('never admits more than burstSize + rate × time under a simulated busy loop', () => {
  const rps = 50;
  const burst = 10;
  const { l, clock } = limiter({ requestsPerSecond: rps, burstSize: burst, maxWait: 300 });
  // Deterministic pseudo-random steps and caller kinds (xorshift32).
  let seed = 0x9e3779b9;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const admittedAt: number[] = [];
  let lastReservedStart = 0;
  for (let i = 0; i < 20_000; i++) {
    clock.t += random() * 8;
    if (random() < 0.5) {
      if (l.tryTake()) admittedAt.push(clock.t);
    } else {
      const wait = l.reserve();
      if (wait >= 0) {
        const start = clock.t + wait;
        assert.ok(start >= lastReservedStart, 'waiters start in the order they reserved');
        lastReservedStart = start;
        admittedAt.push(start);
      }
    }
  }
  admittedAt.sort((a, b) => a - b);
  admittedAt.forEach((t, i) => {
    assert.ok(i + 1 <= burst + (rps * t) / 1000, `admission ${i + 1} at ${t} ms over-admits`);
  });
  // The limiter is saturated most of the time, so it must also admit close to the full rate.
  assert.ok(admittedAt.length >= ((rps * clock.t) / 1000) * 0.9, `only ${admittedAt.length}`);
});

test('configure() applies a new rate in place and keeps the tokens and debt', () => {
  const { l, clock } = limiter({ burstSize: 1 });
  l.reserve();
  assert.equal(l.reserve(), 100);
  l.configure({ requestsPerSecond: 125, burstSize: 1, maxWait: 1_000 });
  assert.equal(l.available, -1, 'the waiter still owns its token');
  clock.t += 4;
  assert.equal(l.available, -0.5, 'half a token earned at the new rate (one per 8 ms)');
  assert.equal(l.reserve(), 12, 'behind the debt, at the new rate');
});

test('configure() caps the tokens at a smaller burstSize', () => {
  const { l } = limiter({ burstSize: 5 });
  l.configure({ requestsPerSecond: 10, burstSize: 2, maxWait: 0 });
  assert.equal(l.tryTake(), true);
  assert.equal(l.tryTake(), true);
  assert.equal(l.tryTake(), false);
});
