import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readDuration } from '../config/duration.js';
import { formatGoDuration } from './goDuration.js';

describe('formatGoDuration', () => {
  test('writes what Go time.Duration.String() writes', () => {
    // Expected strings are Go's own output for these durations.
    const cases: Array<[number, string]> = [
      [0, '0s'],
      [1, '1ms'],
      [300, '300ms'],
      [999, '999ms'],
      [1_000, '1s'],
      [1_001, '1.001s'],
      [1_010, '1.01s'],
      [1_050, '1.05s'],
      [1_005, '1.005s'],
      [1_100, '1.1s'],
      [2_500, '2.5s'],
      [4_980, '4.98s'],
      [30_000, '30s'],
      [59_999, '59.999s'],
      [60_000, '1m0s'],
      [90_000, '1m30s'],
      [90_050, '1m30.05s'],
      [3_600_000, '1h0m0s'],
      [3_723_004, '1h2m3.004s'],
    ];
    for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text, `${ms} ms`);
  });

  test('drops fractions of a millisecond instead of rounding up', () => {
    assert.equal(formatGoDuration(2_999.9), '2.999s');
    assert.equal(formatGoDuration(0.9), '0s');
    assert.equal(formatGoDuration(-5), '0s');
  });

  test('every output reads back as the same whole milliseconds', () => {
    for (let ms = 0; ms < 4_000_000; ms += 997) {
      const reading = readDuration(formatGoDuration(ms));
      assert.deepEqual(reading, { ok: true, value: ms });
    }
  });
});
