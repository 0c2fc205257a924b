import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactSecrets } from '../errors.js';
import { isSecretName, registerUrlPassword } from './secrets.js';

test('secret names: one of their words is a secret word, or two words make a key pair', () => {
  for (const name of [
    'token',
    'API_TOKEN',
    'apiKey',
    'api-key',
    'X-Api-Key',
    'clientSecret',
    'client_key',
    'DB_PASSWORD',
    'privateKey',
    'Authorization',
    'sessionKey',
  ]) {
    assert.equal(isSecretName(name), true, name);
  }
});

test('names that merely contain a secret word are not secret', () => {
  for (const name of ['tokenizer', 'keyboard', 'passage', 'key', 'LOG_LEVEL', 'region', 'host']) {
    assert.equal(isSecretName(name), false, name);
  }
});

test('a URL password is registered raw and decoded; bad percent-encoding does not throw', () => {
  registerUrlPassword('https://u:p%40ss-word@host/');
  assert.equal(redactSecrets('p@ss-word and p%40ss-word'), '[REDACTED] and [REDACTED]');
  assert.doesNotThrow(() => registerUrlPassword('https://u:bad%zz-pw@host/'));
  assert.equal(redactSecrets('bad%zz-pw'), '[REDACTED]');
});
