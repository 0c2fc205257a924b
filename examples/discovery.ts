/**
 * Plugin discovery in watch mode: the manager watches a folder; plugins dropped into it are
 * verified against a trusted SHA256SUMS file, started and called, while calls to the others
 * keep flowing. An untrusted binary is refused. Everything lives in a temp folder removed at
 * the end.
 * Run: node --loader ts-node/esm examples/discovery.ts
 */
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager, isPluginError } from '../src/index.js';

// A plugin in any language only has to speak docs/protocol/exec.md; this one is plain Node.
const plugin = (greeting: string) => `#!/usr/bin/env node
const write = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
write({ type: 'handshake', protocol: 1 });
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line);
  const data = req.type === 'execute' ? ${JSON.stringify(greeting)} + ', ' + req.data.who : { status: 'healthy' };
  write({ type: req.type, request_id: req.request_id, success: true, data });
}).on('close', () => process.exit(0));
`;

const root = mkdtempSync(join(tmpdir(), 'plugwire-discovery-example-'));
const plugins = join(root, 'plugins'); // the watched folder
const sums = join(root, 'SHA256SUMS'); // the host's trusted list, kept outside it
writeFileSync(sums, '');

/** What a deployment does: write aside, trust the checksum, then rename into place (atomic). */
function deploy(name: string, greeting: string, trusted = true): void {
  const text = plugin(greeting);
  const temp = join(plugins, `.${name}.tmp`); // hidden: never matched by a pattern
  writeFileSync(temp, text);
  chmodSync(temp, 0o755);
  if (trusted) {
    appendFileSync(sums, `${createHash('sha256').update(text).digest('hex')}  ${name}\n`);
  }
  renameSync(temp, join(plugins, name));
}

mkdirSync(plugins, { mode: 0o755 });
deploy('plugin-hello', 'hello');

const manager = new Manager<{ who: string }, string>({ logger: console });
manager.on('plugin-discovered', (e) => console.log(`discovered ${e.plugin} (${e.change})`));
manager.on('plugin-rejected', (e) =>
  console.log(`refused ${e.plugin ?? e.path}: ${e.code} ${e.reason}`),
);
try {
  await manager.load({
    plugins: [],
    defaults: { healthCheck: { interval: '1s' }, startup: { maxAttempts: 1 } },
    discovery: {
      enabled: true,
      directories: [plugins],
      patterns: ['plugin-*'],
      watchMode: true,
      debounceMs: 100,
      sumsFile: sums,
      requireChecksums: true,
    },
  });

  // Calls flow to plugin-hello the whole time.
  let running = true;
  let calls = 0;
  let failures = 0;
  const traffic = (async () => {
    while (running) {
      await manager.execute('plugin-hello', { who: 'world' }).then(
        () => calls++,
        () => failures++,
      );
    }
  })();

  console.log('dropping plugin-bonjour into the watched folder…');
  deploy('plugin-bonjour', 'bonjour');
  for (let i = 0; ; i++) {
    try {
      console.log(await manager.execute('plugin-bonjour', { who: 'le monde' }));
      break;
    } catch (error) {
      if (i === 100) throw error; // not there yet: discovery is debounced
      await sleep(50);
    }
  }

  console.log('dropping an untrusted binary (not in SHA256SUMS)…');
  const refused = new Promise<void>((resolve) =>
    manager.on('plugin-rejected', (e) => e.plugin === 'plugin-intruder' && resolve()),
  );
  deploy('plugin-intruder', 'pwned', false);
  await Promise.race([
    refused,
    sleep(5_000, undefined, { ref: false }).then(() => Promise.reject(new Error('not refused'))),
  ]);
  await manager.execute('plugin-intruder', { who: 'you' }, { timeoutMs: 500 }).then(
    (reply) => {
      throw new Error(`the untrusted plugin ran: ${reply}`);
    },
    (error) => console.log(`calling plugin-intruder: ${isPluginError(error) ? error.code : error}`),
  );

  running = false;
  await traffic;
  console.log(`${calls} calls to plugin-hello meanwhile, ${failures} failed`);
  if (failures > 0) process.exitCode = 1;
} finally {
  await manager.shutdown();
  rmSync(root, { recursive: true, force: true });
}
