import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canApplyInPlace, updateMode } from './rules.js';

describe('canApplyInPlace', () => {
  test('accepts the fields a live plugin takes', () => {
    for (const path of [
      'rateLimit.requestsPerSecond',
      'rateLimit.enabled',
      'circuitBreaker.failureThreshold',
      'circuitBreaker.mode',
      'retry.maxRetries',
      'healthCheck.interval',
      'healthCheck.timeout',
      'healthCheck.failureLimit',
      'healthCheck.enabled',
      'weight',
      'priority',
      'enabled',
      'group',
      'labels.team',
      'labels["app.kubernetes.io/name"]',
      'annotations.owner',
      'connection.requestTimeout',
      'startup.maxAttempts',
    ]) {
      assert.equal(canApplyInPlace(path), true, path);
    }
  });

  test('refuses the fields the transport was built with', () => {
    for (const path of [
      'endpoint',
      'socketPath',
      'transport',
      'type',
      'auth.method',
      'auth.token',
      'auth.headers.X-Api-Key',
      'tls.caFile',
      'connection.maxConnections',
      'connection.idleTimeout',
      'connection.maxResponseBytes',
      'executable',
      'args[0]',
      'env[2]',
      'workDir',
      'options.model',
      'healthCheck.endpoint',
    ]) {
      assert.equal(canApplyInPlace(path), false, path);
    }
  });

  test('matches whole field names, not prefixes of other names', () => {
    assert.equal(canApplyInPlace('groupName'), false);
    assert.equal(canApplyInPlace('retryBudget.ratio'), false);
    assert.equal(canApplyInPlace('weights'), false);
    assert.equal(canApplyInPlace('connection.requestTimeouts'), false);
  });

  test('recreates for a field it does not know', () => {
    assert.equal(canApplyInPlace('someFutureField'), false);
  });
});

describe('updateMode', () => {
  test('is in-place only when every change is', () => {
    assert.equal(updateMode(['weight', 'labels.team']), 'in-place');
    assert.equal(updateMode(['weight', 'endpoint']), 'recreate');
  });
});
