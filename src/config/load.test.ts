import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../test/support/tmp.js';
import { ErrorCode, isConfigError, type ConfigError } from '../errors.js';
import { loadConfigFile } from '../builtinConfig.js';

const YAML_CONFIG = `
default_retry:
  max_retries: 4
groups:
  payments: { strategy: p2c }
plugins:
  - name: vault-a
    group: payments
    transport: https
    endpoint: https://vault-a.internal/api/v1
    auth: { method: bearer, token: "\${VAULT_TOKEN}" }
    retry: { initialInterval: 100ms, maxInterval: 5s }
    connection: { maxResponseBytes: 8MiB }
  - name: resizer
    transport: exec
    executable: ./plugins/resizer
    args: [--quiet]
    env: [LOG_LEVEL=info]
    workDir: /var/lib/resizer
    health_check:
`;

async function rejection(run: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await run();
  } catch (error) {
    assert.ok(isConfigError(error), `expected a ConfigError, got ${String(error)}`);
    return error as ConfigError;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfigFile', () => {
  const tmp = tempDir('plugwire-config-');
  const file = (name: string, text: string) => {
    const path = join(tmp.dir, name);
    writeFileSync(path, text);
    return path;
  };
  before(() => undefined);
  after(() => tmp.remove());

  test('reads a YAML file', async () => {
    const config = await loadConfigFile(file('plugins.yaml', YAML_CONFIG), {
      env: { VAULT_TOKEN: 't-1234' },
    });
    assert.deepEqual(
      config.plugins.map((p) => p.name),
      ['vault-a', 'resizer'],
    );
    const [vault, resizer] = config.plugins;
    assert.equal(vault!.auth.token, 't-1234');
    assert.equal(vault!.retry.maxRetries, 4);
    assert.equal(vault!.retry.maxInterval, 5_000);
    assert.equal(vault!.connection.maxResponseBytes, 8 * 1024 * 1024);
    assert.deepEqual(resizer!.env, ['LOG_LEVEL=info']);
    assert.equal(resizer!.healthCheck.interval, 30_000);
    assert.equal(config.groups.payments?.strategy, 'p2c');
  });

  test('reads a JSON file to the same config as the equivalent YAML', async () => {
    const json = {
      default_retry: { max_retries: 4 },
      groups: { payments: { strategy: 'p2c' } },
      plugins: [
        {
          name: 'vault-a',
          group: 'payments',
          transport: 'https',
          endpoint: 'https://vault-a.internal/api/v1',
          auth: { method: 'bearer', token: '${VAULT_TOKEN}' },
          retry: { initialInterval: '100ms', maxInterval: '5s' },
          connection: { maxResponseBytes: '8MiB' },
        },
        {
          name: 'resizer',
          transport: 'exec',
          executable: './plugins/resizer',
          args: ['--quiet'],
          env: ['LOG_LEVEL=info'],
          workDir: '/var/lib/resizer',
          health_check: null,
        },
      ],
    };
    const env = { VAULT_TOKEN: 't-1234' };
    assert.deepEqual(
      await loadConfigFile(file('plugins.json', JSON.stringify(json, null, 2)), { env }),
      await loadConfigFile(file('same.yml', YAML_CONFIG), { env }),
    );
  });

  test('reads a file without a known extension as YAML', async () => {
    const config = await loadConfigFile(file('plugins.conf', 'plugins: []\n'), { env: {} });
    assert.deepEqual(config.plugins, []);
  });

  test('reports a YAML syntax error with its line and column', async () => {
    const path = file('broken.yaml', 'plugins:\n  - name: a\n   transport: http\n');
    const error = await rejection(() => loadConfigFile(path, { env: {} }));
    assert.equal(error.issues.length, 1);
    assert.equal(error.issues[0]!.code, ErrorCode.InvalidJSONConfig);
    assert.match(error.issues[0]!.message, /^line 3, column \d+: not valid YAML/);
    assert.match(error.message, new RegExp(`in ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  test('reports a JSON syntax error with its line and column', async () => {
    const path = file('broken.json', '{\n  "plugins": [\n    { "name": "a", }\n  ]\n}\n');
    const error = await rejection(() => loadConfigFile(path, { env: {} }));
    assert.equal(error.issues[0]!.code, ErrorCode.InvalidJSONConfig);
    assert.match(error.issues[0]!.message, /^line 3, column \d+: /);
  });

  test('keeps a secret written in a broken JSON file out of the error', async () => {
    const path = file('secret.json', '{ "plugins": [ { "token": sk-live-0123456789 } ] }');
    const error = await rejection(() => loadConfigFile(path, { env: {} }));
    assert.equal(error.issues[0]!.code, ErrorCode.InvalidJSONConfig);
    assert.doesNotMatch(JSON.stringify(error), /sk-live-0123456789/);
    assert.doesNotMatch(error.message, /sk-live-0123456789/);
  });

  test('reports an empty file as having no plugins', async () => {
    const error = await rejection(() =>
      loadConfigFile(file('empty.yaml', '# nothing yet\n'), { env: {} }),
    );
    assert.deepEqual(
      error.issues.map((i) => i.code),
      [ErrorCode.NoPluginsConfigured],
    );
  });

  test('reports a file that cannot be read', async () => {
    const error = await rejection(() => loadConfigFile(join(tmp.dir, 'missing.yaml'), { env: {} }));
    assert.match(error.issues[0]!.message, /ENOENT/);
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
  });

  test('reports an invalid config with the file as its source', async () => {
    const path = file('invalid.yaml', 'plugins:\n  - name: a\n    transport: http\n');
    const error = await rejection(() => loadConfigFile(path, { env: {} }));
    assert.deepEqual(
      error.issues.map((i) => i.path),
      ['plugins[0].endpoint'],
    );
    assert.ok(error.message.includes(path));
  });
});
