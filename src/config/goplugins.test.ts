import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../builtinConfig.js';
import { ErrorCode, isConfigError, type ConfigError } from '../errors.js';

// Every key of go-plugins' ManagerConfig (but `discovery`, built in its own issue) and of its
// PluginConfig with every sub-struct, spelled as go-plugins' json/yaml tags spell them.
const GO_CONFIG = {
  log_level: 'info',
  metrics_port: 0,
  default_retry: {
    max_retries: 2,
    initial_interval: '50ms',
    max_interval: '2s',
    multiplier: 1.5,
    random_jitter: false,
  },
  default_circuit_breaker: {
    enabled: true,
    failure_threshold: 4,
    recovery_timeout: '20s',
    min_request_threshold: 2,
    success_threshold: 1,
  },
  default_health_check: {
    enabled: true,
    interval: '15s',
    timeout: '2s',
    failure_limit: 2,
    endpoint: '/healthz',
  },
  default_connection: {
    max_connections: 8,
    max_idle_connections: 4,
    idle_timeout: '60s',
    connection_timeout: '3s',
    request_timeout: '12s',
    keep_alive: true,
    disable_compression: true,
  },
  default_rate_limit: {
    enabled: true,
    requests_per_second: 10,
    burst_size: 20,
    time_window: '1s',
  },
  plugins: [
    {
      name: 'payment-service',
      type: 'payment',
      transport: 'https',
      endpoint: 'https://payments.example.com/api/v1',
      priority: 1,
      enabled: true,
      auth: { method: 'api-key', api_key: 'k-0123456789' },
      retry: { max_retries: 3 },
      circuit_breaker: { failure_threshold: 6 },
      health_check: { failure_limit: 5 },
      connection: { request_timeout: '5s' },
      rate_limit: { time_window: '2s' },
      options: { region: 'eu' },
      labels: { team: 'billing' },
      annotations: { owner: 'someone' },
    },
    {
      name: 'image-processor',
      type: 'processor',
      transport: 'exec',
      endpoint: '',
      priority: 0,
      enabled: true,
      executable: '/usr/local/bin/image-processor',
      args: ['--quality', '90'],
      env: ['LOG_LEVEL=info', 'MAX_MEMORY=1GB'],
      work_dir: '/tmp',
      auth: { method: '' },
    },
    {
      name: 'ledger',
      type: '',
      transport: 'https',
      endpoint: 'https://ledger.example.com/',
      auth: {
        method: 'mtls',
        cert_file: '/etc/certs/client.pem',
        key_file: '/etc/certs/client.key',
        ca_file: '/etc/certs/ca.pem',
      },
    },
    {
      name: 'b1',
      transport: 'http',
      endpoint: 'http://b1/',
      auth: { method: 'bearer', token: 'bt-1234' },
    },
    {
      name: 'b2',
      transport: 'http',
      endpoint: 'http://b2/',
      auth: { method: 'basic', username: 'svc', password: 'pw-1234' },
    },
    {
      name: 'b3',
      transport: 'http',
      endpoint: 'http://b3/',
      auth: { method: 'custom', headers: { 'X-Signature': 'sig-1234' } },
    },
  ],
};

function camelCased(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCased);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
      ['labels', 'annotations', 'options', 'headers'].includes(key) ? item : camelCased(item),
    ]),
  );
}

function rejection(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(isConfigError(error), String(error));
    return error;
  }
  assert.fail('the config was accepted');
}

describe('go-plugins config files', () => {
  test('load unchanged: every ManagerConfig and PluginConfig key in snake_case', () => {
    const config = parseConfig(GO_CONFIG, { env: {} });
    assert.equal(config.logLevel, 'info');
    assert.equal(config.metricsPort, 0);
    assert.equal(config.defaults.rateLimit.timeWindow, 1_000);
    assert.equal(config.defaults.connection.disableCompression, true);
    const [payments, images] = config.plugins;
    assert.equal(payments!.healthCheck.endpoint, '/healthz');
    assert.equal(payments!.retry.initialInterval, 50);
    assert.equal(payments!.rateLimit.timeWindow, 2_000);
    assert.equal(payments!.rateLimit.requestsPerSecond, 10);
    assert.equal(payments!.connection.requestTimeout, 5_000);
    assert.equal(images!.workDir, '/tmp');
    assert.equal(images!.endpoint, undefined, 'Go\'s "" is read as not set');
    assert.equal(images!.auth.method, 'none', 'Go\'s "" method is no authentication');
    const ledger = config.plugins[2]!;
    assert.equal(ledger.type, undefined, 'Go\'s "" type is not set');
    assert.deepEqual(ledger.auth, {
      method: 'mtls',
      certFile: '/etc/certs/client.pem',
      keyFile: '/etc/certs/client.key',
      caFile: '/etc/certs/ca.pem',
    });
    assert.equal(config.plugins[3]!.auth.token, 'bt-1234');
    assert.equal(config.plugins[4]!.auth.password, 'pw-1234');
    assert.deepEqual(config.plugins[5]!.auth.headers, { 'X-Signature': 'sig-1234' });
  });

  test('load unchanged in camelCase too', () => {
    const snake = parseConfig(GO_CONFIG, { env: {} });
    const camel = parseConfig(camelCased(GO_CONFIG), { env: {} });
    assert.deepEqual(camel, snake);
  });

  test('an empty endpoint, as Go writes it, is accepted on an exec plugin', () => {
    const config = parseConfig(
      { plugins: [{ name: 'x', transport: 'exec', executable: '/bin/cat', endpoint: '' }] },
      { env: {} },
    );
    assert.equal(config.plugins[0]!.endpoint, undefined);
  });

  test('an empty endpoint on an http plugin is a missing endpoint, as Go would mean it', () => {
    const error = rejection(() =>
      parseConfig({ plugins: [{ name: 'x', transport: 'http', endpoint: '' }] }, { env: {} }),
    );
    assert.deepEqual(
      error.issues.map((i) => [i.path, i.code]),
      [['plugins[0].endpoint', ErrorCode.MissingEndpoint]],
    );
  });

  test('log_level takes go-plugins level names in any case; "" is not set', () => {
    const level = (value: string) =>
      parseConfig({ log_level: value, plugins: [] }, { env: {} }).logLevel;
    assert.equal(level('DEBUG'), 'debug');
    assert.equal(level('Warning'), 'warn');
    assert.equal(level('error'), 'error');
    assert.equal(level(''), undefined);
  });

  test('an unknown log_level or an impossible metrics_port is reported by path', () => {
    const error = rejection(() =>
      parseConfig({ log_level: 'verbose', metrics_port: 70_000, plugins: [] }, { env: {} }),
    );
    assert.deepEqual(
      error.issues.map((i) => i.path),
      ['logLevel', 'metricsPort'],
    );
    assert.match(error.issues[0]!.message, /debug, info, warn, error/);
  });

  test('metrics_host defaults to this host only', () => {
    assert.equal(parseConfig({ plugins: [] }, { env: {} }).metricsHost, '127.0.0.1');
    assert.equal(
      parseConfig({ metrics_host: '0.0.0.0', plugins: [] }, { env: {} }).metricsHost,
      '0.0.0.0',
    );
  });
});
