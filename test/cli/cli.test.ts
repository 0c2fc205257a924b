import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../src/cli/main.js';
import { serveAdmin } from '../../src/index.js';
import { threePlugins, traffic } from '../status/fixture.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('plugwire-cli-');
after(() => tmp.remove());

const SECRETS = ['inline-bearer-0123456789', 'from-env-0123456789', 'basic-pw-0123456789'];
process.env.PLUGWIRE_CLI_TEST_TOKEN = SECRETS[1];

function file(name: string, text: string): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function assertNoSecret(text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `printed a secret: ${text}`);
}

const valid = file(
  'valid.yaml',
  `groups: { payments: { strategy: p2c } }
plugins:
  - name: vault-a
    group: payments
    transport: https
    endpoint: https://vault-a.internal/api/v1
    auth: { method: bearer, token: "${SECRETS[0]}" }
  - name: vault-b
    group: payments
    transport: http
    endpoint: http://vault-b.internal/api/v1
    auth: { method: api-key, apiKey: "\${PLUGWIRE_CLI_TEST_TOKEN}" }
`,
);

const invalid = file(
  'invalid.yaml',
  `plugins:
  - name: vault-a
    transport: https
    endpoint: https://vault-a.internal/api/v1
    auth: { method: bearer, token: "${SECRETS[0]}", tokne: "${SECRETS[0]}" }
  - name: vault-a
    transport: carrier-pigeon
  - name: mail
    transport: http
    endpoint: "http://admin:${SECRETS[2]}@mail.internal/"
    auth: { method: basic, username: admin, password: "${SECRETS[2]}" }
    retry: { maxRetries: -1 }
  - name: keys
    transport: http
    endpoint: http://keys.internal/
    auth: { method: api-key, apiKey: "\${PLUGWIRE_CLI_MISSING_VAR}" }
`,
);

describe('plugwire validate', () => {
  test('a valid config: exit 0, a one-line summary, no secret', async () => {
    const { code, out, err } = await run('validate', valid);
    assert.equal(code, 0);
    assert.equal(out, `${valid}: valid (2 plugins, 1 group)\n`);
    assert.equal(err, '');
    assertNoSecret(out);
  });

  test('an invalid config: exit 1, every problem by path with its code, no secret', async () => {
    const { code, out, err } = await run('validate', invalid);
    assert.equal(code, 1);
    assert.equal(out, '');
    const lines = err.trim().split('\n');
    assert.match(lines[0]!, /invalid \(\d+ problems\)$/);
    for (const expected of [
      /^ {2}plugins\[0\]\.auth\.tokne: .* \[PLUGIN_1000\]$/,
      /^ {2}plugins\[1\]\.transport: unsupported transport "carrier-pigeon".* \[PLUGIN_1008\]$/,
      /^ {2}plugins\[1\]\.name: duplicate plugin name "vault-a".* \[PLUGIN_1010\]$/,
      /^ {2}plugins\[2\]\.retry\.maxRetries: must not be negative \[PLUGIN_1000\]$/,
      /^ {2}plugins\[3\]\.auth\.apiKey: .*PLUGWIRE_CLI_MISSING_VAR.* \[PLUGIN_\d+\]$/,
    ]) {
      assert.ok(
        lines.some((line) => expected.test(line)),
        `no line matches ${expected}:\n${err}`,
      );
    }
    assertNoSecret(err);
  });

  test('--json gives the problems as data for CI, with the same exit status', async () => {
    const bad = await run('validate', invalid, '--json');
    assert.equal(bad.code, 1);
    const report = JSON.parse(bad.out) as {
      valid: boolean;
      problems: Array<{ path: string; code: string; message: string }>;
    };
    assert.equal(report.valid, false);
    assert.ok(report.problems.length >= 5);
    assert.ok(report.problems.every((p) => p.path && /^[A-Z]+_\d{4}$/.test(p.code) && p.message));
    assertNoSecret(bad.out);
    const good = await run('validate', valid, '--json');
    assert.equal(good.code, 0);
    assert.deepEqual(JSON.parse(good.out), {
      file: valid,
      valid: true,
      problems: [],
      plugins: ['vault-a', 'vault-b'],
      groups: ['payments'],
    });
  });

  test('a file that is not YAML, or missing: exit 1 with the reason', async () => {
    const broken = file('broken.yaml', `plugins: [ { name: a, token: "${SECRETS[0]}" `);
    const syntax = await run('validate', broken);
    assert.equal(syntax.code, 1);
    assert.match(syntax.err, /\[PLUGIN_1011\]/);
    assertNoSecret(syntax.err);
    const missing = await run('validate', join(tmp.dir, 'nope.yaml'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read the file \(ENOENT\)/);
  });

  test('wrong usage exits 2; --help explains and exits 0', async () => {
    assert.equal((await run('validate')).code, 2);
    assert.equal((await run('validate', valid, '--frobnicate')).code, 2);
    const help = await run('validate', '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: plugwire validate <file> \[--json\]/);
  });
});

describe('plugwire diff', () => {
  const next = file(
    'next.yaml',
    `groups: { payments: { strategy: round-robin } }
plugins:
  - name: vault-a
    group: payments
    transport: https
    endpoint: https://vault-a.internal/api/v1
    auth: { method: bearer, token: "${SECRETS[2]}" }
    circuitBreaker: { failureThreshold: 9 }
  - name: vault-c
    transport: http
    endpoint: http://vault-c.internal/
`,
  );

  test('lists added, removed and per field in place or recreate, never a value', async () => {
    const { code, out } = await run('diff', valid, next);
    assert.equal(code, 0);
    assert.match(out, /^Added \(created and started\): {2}vault-c$/m);
    assert.match(out, /^Removed \(drained and closed\): vault-b$/m);
    assert.match(out, /^ {2}vault-a: recreated$/m);
    assert.match(out, /^ {4}auth\.token +needs recreate$/m);
    assert.match(out, /^ {4}circuitBreaker\.failureThreshold +in place$/m);
    assert.match(out, /^Groups: payments \(strategy\)$/m);
    assertNoSecret(out);
  });

  test('--json carries every field with its mode', async () => {
    const { code, out } = await run('diff', valid, next, '--json');
    assert.equal(code, 0);
    const diff = JSON.parse(out) as {
      added: string[];
      removed: string[];
      updated: Array<{ name: string; mode: string; fields: Array<{ path: string; mode: string }> }>;
    };
    assert.deepEqual(diff.added, ['vault-c']);
    assert.deepEqual(diff.removed, ['vault-b']);
    assert.equal(diff.updated[0]!.mode, 'recreate');
    assert.deepEqual(diff.updated[0]!.fields, [
      { path: 'auth.token', mode: 'recreate' },
      { path: 'circuitBreaker.failureThreshold', mode: 'in-place' },
    ]);
    assertNoSecret(out);
  });

  test('no change says so; an invalid side exits 1 with its problems', async () => {
    assert.match((await run('diff', valid, valid)).out, /^No changes/);
    const bad = await run('diff', valid, invalid);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /invalid\.yaml: invalid/);
    assertNoSecret(bad.err);
    assert.equal((await run('diff', valid)).code, 2);
  });
});

describe('plugwire status', () => {
  test('reads the status JSON and prints a row per plugin and group', async () => {
    const manager = await threePlugins();
    const admin = await serveAdmin({ manager, port: 0 });
    try {
      await fetch(`${admin.url}/status.json`); // the window starts at the first read
      await traffic(manager, 2);
      await sleep(1100);
      const { code, out, err } = await run('status', admin.url);
      assert.equal(code, 0, err);
      const lines = out.split('\n');
      assert.match(lines[0]!, /^READY \(.*, rates over \d+s\)$/);
      assert.match(lines[2]!, /^PLUGIN +GROUP +STATE +HEALTH +BREAKER +INFLIGHT +CALLS\/S +ERR/);
      assert.match(out, /^ledger +payments +ready +healthy +closed +0 +[\d.]+ +0\.0%/m);
      assert.match(out, /^mailer +payments +ready +degraded +closed .*password=\[REDACTED\]/m);
      assert.match(out, /^vault +- +ready +healthy +open .*CIRCUIT_1401 x1/m);
      assert.match(out, /^payments +2\/2 +0 /m);
      const json = await run('status', `${admin.url}/status`, '--json');
      assert.equal(JSON.parse(json.out).version, 1);
    } finally {
      await admin.close();
      await manager.shutdown({ timeoutMs: 100 });
    }
  });

  test('an unreachable server exits 1; a bad URL exits 2', async () => {
    const down = await run('status', 'http://127.0.0.1:9/', '--timeout', '2000');
    assert.equal(down.code, 1);
    assert.match(down.err, /^cannot read http:\/\/127\.0\.0\.1:9\/status\.json: /);
    assert.equal((await run('status', 'not a url')).code, 2);
    assert.match((await run('status', '--help')).out, /^Usage: plugwire status <url>/);
  });
});

describe('plugwire', () => {
  test('no command prints the help and exits 2; an unknown one too', async () => {
    const none = await run();
    assert.equal(none.code, 2);
    assert.match(none.out, /^Usage: plugwire <command>/);
    const unknown = await run('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'frobnicate'/);
    assert.equal((await run('--help')).code, 0);
  });
});
