// Issue 10: a mistyped config must not print its secrets, wherever the mistake lands: in a key,
// in a YAML diagnostic, or in the heading of the ConfigError.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, isConfigError } from '../../src/errors.js';
import { loadConfigFile } from '../../src/config/load.js';
import { tempDir } from '../support/tmp.js';

const SECRET = 'S3cretTypo-Value-9f8e7d';

const temp = tempDir();
after(() => temp.remove());
let files = 0;

async function rejection(yaml: string): Promise<ConfigError> {
  const dir = temp.dir;
  const file = join(dir, `plugins-${++files}.yaml`);
  await writeFile(file, yaml);
  try {
    await loadConfigFile(file);
  } catch (error) {
    assert.ok(isConfigError(error), `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

function assertNoSecret(error: ConfigError): void {
  for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: 10 })]) {
    assert.doesNotMatch(text, /S3cretTypo/);
  }
}

const plugin = (auth: string) => `plugins:
  - name: vault
    transport: http
    endpoint: http://127.0.0.1:8080/plugin
    auth: ${auth}
`;

test('a missing space after the colon does not print the secret in the unknown key', async () => {
  const error = await rejection(plugin(`{ method: bearer, token:${SECRET} }`));
  assertNoSecret(error);
  assert.ok(error.issues.some((i) => i.path.startsWith('plugins[0].auth')));
});

test('a comma typed for the colon does not print the secret as a key', async () => {
  const error = await rejection(plugin(`{ method: bearer, token, ${SECRET} }`));
  assertNoSecret(error);
  assert.ok(error.issues.some((i) => i.path.startsWith('plugins[0].auth')));
});

test('a misspelled auth field is still named, with the field it is close to', async () => {
  const error = await rejection(
    plugin(`{ method: bearer, token: ${SECRET}, tokne: x, S3cretTypo: y }`),
  );
  assertNoSecret(error);
  const paths = error.issues.map((i) => i.path);
  assert.ok(paths.includes('plugins[0].auth.tokne'), paths.join(', '));
  // A key far from every auth field may be a value typed as a key: its name is not shown.
  assert.ok(paths.includes('plugins[0].auth'), paths.join(', '));
});

test('an unknown tag (!secret) is a config problem with its line, never a process warning', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(`${warning.name}: ${warning.message}`);
  };
  process.on('warning', onWarning);
  after(() => process.off('warning', onWarning));
  const error = await rejection(plugin(`\n      method: bearer\n      token: !secret ${SECRET}`));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings, []);
  assertNoSecret(error);
  assert.match(error.message, /line 7, column \d+: not valid YAML: Unresolved tag/);
});

test('the heading of a ConfigError is redacted like its issues', () => {
  const error = new ConfigError(
    [{ path: 'plugins', message: 'is required', code: 'PLUGIN_1009' }],
    'https://deploy:hunter22-Secret@config.internal/plugins.yaml',
  );
  assert.doesNotMatch(error.message, /hunter22/);
  assert.match(error.message, /config\.internal/);
});

test('paths are redacted too: a key that reads as key=value keeps its name, not its value', () => {
  const error = new ConfigError(
    [{ path: 'plugins[0].labels["password=Hunter22x"]', message: 'bad', code: 'PLUGIN_1000' }],
    'x.yaml',
  );
  assert.doesNotMatch(error.message, /Hunter22x/);
  assert.doesNotMatch(JSON.stringify(error), /Hunter22x/);
});
