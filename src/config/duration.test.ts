import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, isPluginError } from '../errors.js';
import { parseDuration, parseSize } from './duration.js';

describe('parseDuration', () => {
  const valid: Array<[number | string, number]> = [
    [250, 250],
    [0, 0],
    [1.5, 1.5],
    ['0', 0],
    ['250ms', 250],
    ['1.5s', 1_500],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['2h45m', 9_900_000],
    ['100us', 0.1],
    ['100µs', 0.1],
    ['1500000ns', 1.5],
    ['.5s', 500],
    ['0.1h', 360_000],
    ['-1s', -1_000],
    [' 30s ', 30_000],
  ];
  for (const [input, ms] of valid) {
    test(`reads ${JSON.stringify(input)} as ${ms} ms`, () => {
      assert.equal(parseDuration(input), ms);
    });
  }

  for (const input of ['', '30', '1.5', 's', '1d', '1 s', '1m30', '10 minutes', 'ms', '1s-2s']) {
    test(`rejects ${JSON.stringify(input)} with PLUGIN_1000`, () => {
      assert.throws(
        () => parseDuration(input),
        (error: unknown) => isPluginError(error) && error.code === ErrorCode.InvalidConfig,
      );
    });
  }

  test('rejects a number that is not finite', () => {
    assert.throws(() => parseDuration(Number.POSITIVE_INFINITY), /Invalid duration/);
  });

  test('explains that a bare number string needs a unit', () => {
    assert.throws(() => parseDuration('500'), /needs a unit/);
  });
});

describe('parseSize', () => {
  const valid: Array<[number | string, number]> = [
    [1024, 1024],
    ['1024', 1024],
    ['512B', 512],
    ['512KiB', 512 * 1024],
    ['8MiB', 8 * 1024 * 1024],
    ['8mib', 8 * 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['10MB', 10_000_000],
    ['1GB', 1_000_000_000],
    ['1 KB', 1_000],
    ['1.5KiB', 1_536],
  ];
  for (const [input, bytes] of valid) {
    test(`reads ${JSON.stringify(input)} as ${bytes} bytes`, () => {
      assert.equal(parseSize(input), bytes);
    });
  }

  for (const input of ['', 'MiB', '8 megs', '-1', '1PB', 1.5, -1]) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseSize(input), /Invalid size/);
    });
  }
});
