/**
 * A Unix-socket plugin: newline-delimited JSON, many requests in flight per connection.
 * Run: node --loader ts-node/esm examples/unix.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manager } from '../src/index.js';
import { serveUnix } from '../src/sdk/index.js';
import { textTools, type TextRequest, type TextResponse } from './plugins/text-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'plugwire-example-'));
const plugin = await serveUnix(textTools('unix example'), { path: join(dir, 'text.sock') });

const manager = new Manager<TextRequest, TextResponse>();
await manager.load({ plugins: [{ name: 'text', transport: 'unix', socketPath: plugin.endpoint }] });

// 100 calls at once share the socket connections.
const words = await Promise.all(
  Array.from({ length: 100 }, (_, i) =>
    manager.execute('text', { op: 'words', text: 'word '.repeat(i + 1) }),
  ),
);
console.log(`100 concurrent calls, last answer: ${words.at(-1)?.result} words`);

await manager.shutdown();
await plugin.close();
rmSync(dir, { recursive: true, force: true });
