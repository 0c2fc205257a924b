import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthFromReply } from './health.js';

const check = (status: number, body: string) =>
  healthFromReply(status, Buffer.from(body), Date.now());

test('any 2xx is healthy, even with a body that is not JSON', () => {
  assert.equal(check(200, 'OK').status, 'healthy');
  assert.equal(check(204, '').status, 'healthy');
  assert.equal(check(200, '{"status":"UP"}').status, 'healthy');
});

test('a 2xx body can say degraded, with a message and metadata', () => {
  const status = check(
    200,
    '{"status":"degraded","message":"slow disk","metadata":{"disk":"sda"}}',
  );
  assert.equal(status.status, 'degraded');
  assert.equal(status.message, 'slow disk');
  assert.deepEqual(status.metadata, { disk: 'sda' });
});

test('when the status code and the body disagree, the worse one wins', () => {
  assert.equal(check(503, '{"status":"healthy"}').status, 'unhealthy');
  assert.equal(check(200, '{"status":"unhealthy"}').status, 'unhealthy');
});

test('a failing status is unhealthy with the status in the message, or offline when said so', () => {
  const status = check(500, '');
  assert.equal(status.status, 'unhealthy');
  assert.equal(status.message, 'HTTP 500');
  assert.equal(check(503, '{"status":"offline"}').status, 'offline');
});
