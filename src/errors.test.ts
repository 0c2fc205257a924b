import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, ErrorCode, PluginError, registerSecret } from './errors.js';

test('a config problem about a secret field keeps its words; only secret values are redacted', () => {
  registerSecret('s3cr3t-value');
  const error = new ConfigError([
    {
      path: 'plugins[0].auth.token',
      message: 'must be a non-empty string',
      code: ErrorCode.MissingBearerToken,
    },
    {
      path: 'plugins[1].endpoint',
      message: 'bad URL s3cr3t-value',
      code: ErrorCode.InvalidEndpointURL,
    },
  ]);
  assert.match(error.message, /plugins\[0\]\.auth\.token: must be a non-empty string/);
  assert.doesNotMatch(error.message, /s3cr3t-value/);
  assert.doesNotMatch(JSON.stringify(error), /s3cr3t-value/);
});

test('plugin errors redact credentials in their message and toJSON()', () => {
  const error = new PluginError(
    ErrorCode.HTTPTransportError,
    'sent Authorization: Bearer abcdef123456',
    {
      cause: new Error('to https://user:pa55word@host/x'),
    },
  );
  assert.doesNotMatch(error.message, /abcdef123456/);
  assert.doesNotMatch(JSON.stringify(error), /pa55word/);
});
