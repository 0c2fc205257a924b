import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_POLICY } from '../config/defaults.js';
import { scanDirectories } from './scanner.js';

const dir = mkdtempSync(join(tmpdir(), 'plugwire-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a directory of 1,000 files, 100 matching the patterns, yields exactly the 100 plugins', async () => {
  for (let i = 0; i < 1_000; i++) {
    const name = i % 10 === 0 ? `plugin-${i}` : `data-${i}.bin`;
    const path = join(dir, name);
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
  }
  const { found, rejected } = await scanDirectories(
    { directories: [dir], patterns: ['plugin-*'] },
    { defaults: DEFAULT_POLICY, parse: { transports: new Map([['exec', {}]]) } },
  );
  assert.deepEqual(rejected, []);
  assert.equal(found.length, 100);
  assert.deepEqual(
    found.map((p) => p.config.name).sort(),
    Array.from({ length: 100 }, (_, i) => `plugin-${i * 10}`).sort(),
  );
  for (const { config, origin } of found) {
    assert.equal(config.transport, 'exec');
    assert.equal(config.executable, join(dir, config.name));
    assert.equal(origin.directory, dir);
  }
});
