import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.js';

test('docs/errors.md documents every code of ErrorCode, under its name', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [name, code] of Object.entries(ErrorCode)) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\``));
    assert.ok(row, `${code} has no row in docs/errors.md`);
    assert.match(row, new RegExp(`\\| \`${name}\` +\\|`), `${code}'s row does not name ${name}`);
  }
});
