import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBudget } from './RetryBudget.js';

function budget(ratio: number, minPerSecond: number) {
  const clock = { t: 0, now: () => clock.t };
  return { b: new RetryBudget({ ratio, minPerSecond }, clock.now), clock };
}

/** Each call fails and asks for up to `maxRetries` retries; returns the retries granted. */
function failingCalls(b: RetryBudget, calls: number, maxRetries: number): number {
  let retries = 0;
  for (let i = 0; i < calls; i++) {
    b.recordCall();
    for (let r = 0; r < maxRetries && b.tryWithdraw(); r++) retries++;
  }
  return retries;
}

test('1000 failing calls get ratio × 1000 retries plus the per-second floor', () => {
  const { b } = budget(0.2, 10);
  assert.equal(failingCalls(b, 1_000, 3), 200 + 10);
});

test('without a floor, retries stay at the ratio of calls', () => {
  const { b } = budget(0.2, 0);
  assert.equal(failingCalls(b, 1_000, 3), 200);
  assert.equal(b.tryWithdraw(), false);
});

test('the floor allows minPerSecond retries in every second, even with no calls', () => {
  const { b, clock } = budget(0, 5);
  let granted = 0;
  while (b.tryWithdraw()) granted++;
  assert.equal(granted, 5);
  clock.t += 999;
  assert.equal(b.tryWithdraw(), false, 'still the same second');
  clock.t += 1;
  for (let i = 0; i < 5; i++) assert.equal(b.tryWithdraw(), true);
  assert.equal(b.tryWithdraw(), false);
});

test('unused floor is not banked across seconds', () => {
  const { b, clock } = budget(0, 5);
  clock.t += 60_000;
  let granted = 0;
  while (b.tryWithdraw()) granted++;
  assert.equal(granted, 5);
});

test('a long healthy period banks at most max(10, ratio × 1000) retries', () => {
  const { b } = budget(0.2, 0);
  for (let i = 0; i < 100_000; i++) b.recordCall();
  assert.equal(b.available, 200);
  const small = budget(0.001, 0).b;
  for (let i = 0; i < 100_000; i++) small.recordCall();
  assert.equal(small.available, 10);
});

test('configure() keeps the balance, capped at the new maximum', () => {
  const { b } = budget(0.5, 0);
  for (let i = 0; i < 1_000; i++) b.recordCall();
  assert.equal(b.available, 500);
  b.configure({ ratio: 0.2, minPerSecond: 0 });
  assert.equal(b.available, 200);
  b.configure({ ratio: 0.5, minPerSecond: 0 });
  assert.equal(b.available, 200, 'raising the cap does not invent tokens');
  b.recordCall();
  b.recordCall();
  assert.equal(b.available, 201, 'new deposits use the new ratio');
});
