import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '../errors.js';
import { parseConfig } from './parse.js';

test('discovery takes go-plugins names, snake_case included, with plugwire defaults', () => {
  const { discovery } = parseConfig({
    plugins: [],
    discovery: {
      enabled: true,
      directories: ['/opt/plugins'],
      watch_mode: true,
      require_checksums: true,
    },
  });
  assert.deepEqual(discovery, {
    enabled: true,
    directories: ['/opt/plugins'],
    patterns: ['*'],
    watchMode: true,
    checksums: {},
    requireChecksums: true,
    debounceMs: 200,
    poll: 2_000,
  });
  assert.equal(parseConfig({ plugins: [] }).discovery.enabled, false);
});

test('every discovery mistake is listed by path', () => {
  assert.throws(
    () =>
      parseConfig({
        plugins: [],
        discovery: {
          enabled: true,
          patterns: ['plugin-[a'],
          checksums: { 'plugin-a': 'abc' },
          watchmode: true,
        },
      }),
    (error) => {
      assert.ok(isConfigError(error));
      const paths = error.issues.map((issue) => issue.path).sort();
      assert.deepEqual(paths, [
        'discovery.checksums.plugin-a',
        'discovery.directories',
        'discovery.patterns[0]',
        'discovery.watchmode',
      ]);
      return true;
    },
  );
});
