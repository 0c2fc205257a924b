import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { matchesChecksum, parseSums, sha256File, trustedChecksum } from './checksums.js';

const dir = mkdtempSync(join(tmpdir(), 'plugwire-sums-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const hex = (text: string) => createHash('sha256').update(text).digest('hex');

test('a streamed hash equals sha256 of the content and compares in constant time', async () => {
  const file = join(dir, 'bin');
  writeFileSync(file, 'x'.repeat(300_000));
  const digest = await sha256File(file);
  assert.equal(digest.toString('hex'), hex('x'.repeat(300_000)));
  assert.equal(matchesChecksum(digest, hex('x'.repeat(300_000)).toUpperCase()), true);
  assert.equal(matchesChecksum(digest, hex('y')), false);
  assert.equal(matchesChecksum(digest, 'abc'), false); // wrong length: no throw
});

test('sha256sum files: two spaces or " *", comments skipped, bad lines reported by number', () => {
  const sums = parseSums(`# build 42\n${hex('a')}  plugin-a\n${hex('b')} *plugin-b\n\n`, 'SUMS');
  assert.deepEqual([...sums.keys()], ['plugin-a', 'plugin-b']);
  assert.throws(() => parseSums(`${hex('a')}  a\nnot a line\n`, 'SUMS'), /SUMS: line 2 not in/);
});

test('the config map wins over the sums file; keys are absolute or relative to the directory', async () => {
  const sumsFile = join(dir, 'SHA256SUMS');
  writeFileSync(sumsFile, `${hex('from-file')}  plugin-x\n`);
  const file = join(dir, 'plugins', 'plugin-x');
  const settings = { checksums: {}, sumsFile };
  assert.equal(
    (await trustedChecksum(settings, join(dir, 'plugins'), file))?.hex,
    hex('from-file'),
  );
  const mapped = { checksums: { [file]: hex('from-map') }, sumsFile };
  assert.deepEqual(await trustedChecksum(mapped, join(dir, 'plugins'), file), {
    hex: hex('from-map'),
    source: 'discovery.checksums',
  });
  assert.equal(await trustedChecksum({ checksums: {} }, join(dir, 'plugins'), file), undefined);
});
