import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childEnv } from './env.js';

test('the child environment is PATH plus the configured entries, nothing else from the host', () => {
  process.env.PLUGWIRE_TEST_HOST_SECRET = 'hunter2';
  try {
    const env = childEnv(['LOG_LEVEL=info', 'URL=http://x/?a=b']);
    assert.deepEqual(env, { PATH: process.env.PATH, LOG_LEVEL: 'info', URL: 'http://x/?a=b' });
  } finally {
    delete process.env.PLUGWIRE_TEST_HOST_SECRET;
  }
});
