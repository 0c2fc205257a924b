import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, PluginError } from '../errors.js';
import { abortError } from './abort.js';

test('a PluginError reason is passed through, so a retryable interrupt stays retryable', () => {
  const interrupt = new PluginError(ErrorCode.PluginNotReady, 'being replaced', {
    retryable: true,
  });
  assert.equal(abortError('p', interrupt), interrupt);
  assert.equal(interrupt.plugin, 'p');
  const deadline = new PluginError(ErrorCode.PluginTimeout, 'deadline', { plugin: 'other' });
  assert.equal(abortError('p', deadline).plugin, 'other');
});

test('a TimeoutError reason is PLUGIN_1204, any other reason PLUGIN_1206 (not retryable)', () => {
  const timeout = abortError('p', new DOMException('late', 'TimeoutError'));
  assert.equal(timeout.code, ErrorCode.PluginTimeout);
  assert.equal(timeout.retryable, true);
  const caller = abortError('p', new Error('user left'));
  assert.equal(caller.code, ErrorCode.CallAborted);
  assert.equal(caller.retryable, false);
  assert.equal(caller.plugin, 'p');
});
