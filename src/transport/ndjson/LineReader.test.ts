import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineReader } from './LineReader.js';
import type { OversizedLine } from './LineReader.js';

function collect(limit?: number) {
  const lines: string[] = [];
  const oversized: OversizedLine[] = [];
  const reader = new LineReader(
    { line: (text) => lines.push(text), oversized: (line) => oversized.push(line) },
    limit,
  );
  return { reader, lines, oversized };
}

test('lines split across chunks, one byte at a time, come out whole', () => {
  const { reader, lines } = collect();
  for (const byte of Buffer.from('{"a":1}\n{"b":2}\n')) reader.push(Buffer.from([byte]));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
});

test('a multi-byte UTF-8 character cut by a chunk boundary is decoded intact', () => {
  const { reader, lines } = collect();
  const bytes = Buffer.from('héllo wörld 🙂\n');
  const cut = bytes.indexOf(0x9f); // inside the emoji
  reader.push(bytes.subarray(0, cut));
  reader.push(bytes.subarray(cut));
  assert.deepEqual(lines, ['héllo wörld 🙂']);
});

test('CRLF endings are stripped and empty lines are skipped', () => {
  const { reader, lines } = collect();
  reader.push(Buffer.from('one\r\n\n\r\ntwo\n'));
  assert.deepEqual(lines, ['one', 'two']);
});

test('a chunk that ends a held line, holds whole lines and starts another gives each line once', () => {
  const { reader, lines, oversized } = collect(8);
  reader.push(Buffer.from('ab'));
  reader.push(Buffer.from('c\nd\r\n\ne\n123456789\nf'));
  assert.deepEqual(lines, ['abc', 'd', 'e']);
  assert.equal(oversized.length, 1, 'a line over the limit inside one chunk is still refused');
  assert.equal(oversized[0]!.bytes, 9);
  reader.push(Buffer.from('g\r\nh\n'));
  assert.deepEqual(lines, ['abc', 'd', 'e', 'fg', 'h']);
});

test('a 10 MiB line is delivered whole when there is no limit', () => {
  const { reader, lines } = collect();
  const big = 'x'.repeat(10 * 1024 * 1024);
  const bytes = Buffer.from(`${big}\nnext\n`);
  for (let i = 0; i < bytes.length; i += 65536) reader.push(bytes.subarray(i, i + 65536));
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.length, big.length);
  assert.equal(lines[1], 'next');
});

test('a line over the limit is reported with its size and samples, and the next line still arrives', () => {
  const { reader, lines, oversized } = collect(100);
  const long = `{"request_id":"r1","data":"${'y'.repeat(5000)}","end":"tail"}`;
  reader.push(Buffer.from(long.slice(0, 50)));
  reader.push(Buffer.from(long.slice(50, 3000)));
  assert.equal(reader.bufferedBytes, 0, 'bytes past the limit are not kept');
  reader.push(Buffer.from(`${long.slice(3000)}\n{"ok":true}\n`));
  assert.equal(oversized.length, 1);
  assert.equal(oversized[0]!.bytes, Buffer.byteLength(long));
  assert.ok(oversized[0]!.head.startsWith('{"request_id":"r1"'));
  assert.ok(oversized[0]!.tail.endsWith('"end":"tail"}'));
  assert.deepEqual(lines, ['{"ok":true}']);
});

test('a line of exactly the limit is accepted', () => {
  const { reader, lines, oversized } = collect(5);
  reader.push(Buffer.from('12345\n123456\n'));
  assert.deepEqual(lines, ['12345']);
  assert.equal(oversized.length, 1);
});

test('end() delivers a last line that has no newline', () => {
  const { reader, lines } = collect();
  reader.push(Buffer.from('a\nlast'));
  reader.end();
  assert.deepEqual(lines, ['a', 'last']);
});
