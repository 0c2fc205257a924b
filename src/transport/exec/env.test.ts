import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginConfig } from '../../config/defaults.js';
import { childEnv, validateExecConfig } from './env.js';

test('the child environment is PATH plus the configured entries, nothing else from the host', () => {
  process.env.PLUGWIRE_TEST_HOST_SECRET = 'hunter2';
  try {
    const env = childEnv(['LOG_LEVEL=info', 'URL=http://x/?a=b']);
    assert.deepEqual(env, { PATH: process.env.PATH, LOG_LEVEL: 'info', URL: 'http://x/?a=b' });
  } finally {
    delete process.env.PLUGWIRE_TEST_HOST_SECRET;
  }
});

test('exec configs need an executable and KEY=value env entries', () => {
  const issues = validateExecConfig(
    pluginConfig({ name: 'x', transport: 'exec', env: ['OK=1', 'BROKEN', '=value'] }),
  );
  assert.deepEqual(
    issues.map((i) => i.path),
    ['executable', 'env[1]', 'env[2]'],
  );
});
