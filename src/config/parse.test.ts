import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, isConfigError, PluginError, type ConfigError } from '../errors.js';
import {
  DEFAULT_POLICY,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STARTUP_CONCURRENCY,
  pluginConfig,
} from './defaults.js';
import { parseConfig, parsePluginConfig } from '../builtinConfig.js';

const http = { name: 'p', transport: 'http', endpoint: 'http://127.0.0.1:8080/plugin' };

function rejection(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(isConfigError(error), `expected a ConfigError, got ${String(error)}`);
    return error as ConfigError;
  }
  assert.fail('expected a ConfigError');
}

describe('parseConfig', () => {
  test('fills every default of a minimal config', () => {
    const config = parseConfig({ plugins: [http] }, { env: {} });
    assert.deepEqual(config.defaults, DEFAULT_POLICY);
    assert.deepEqual(config.groups, {});
    assert.deepEqual(config.readiness, { policy: 'attempted', required: [] });
    assert.deepEqual(config.retryBudget, DEFAULT_RETRY_BUDGET);
    assert.equal(config.startupConcurrency, DEFAULT_STARTUP_CONCURRENCY);
    assert.deepEqual(config.plugins[0], pluginConfig(http));
  });

  test('accepts an empty plugin list', () => {
    assert.deepEqual(parseConfig({ plugins: [] }, { env: {} }).plugins, []);
  });

  test('layers built-in defaults, the defaults section and the plugin field by field', () => {
    const config = parseConfig(
      {
        defaults: {
          retry: { maxRetries: 5, initialInterval: '200ms' },
          healthCheck: { endpoint: '/ready' },
        },
        plugins: [
          { ...http, retry: { maxRetries: 1 } },
          { ...http, name: 'q' },
        ],
      },
      { env: {} },
    );
    const [own, inherited] = config.plugins;
    assert.deepEqual(own!.retry, { ...DEFAULT_POLICY.retry, maxRetries: 1, initialInterval: 200 });
    assert.deepEqual(inherited!.retry, {
      ...DEFAULT_POLICY.retry,
      maxRetries: 5,
      initialInterval: 200,
    });
    assert.equal(inherited!.healthCheck.endpoint, '/ready');
    assert.deepEqual(config.defaults.circuitBreaker, DEFAULT_POLICY.circuitBreaker);
  });

  test('gives every plugin its own copy of inherited sections', () => {
    const config = parseConfig({ plugins: [http, { ...http, name: 'q' }] }, { env: {} });
    assert.notEqual(config.plugins[0]!.retry, config.plugins[1]!.retry);
    assert.notEqual(config.plugins[0]!.labels, config.plugins[1]!.labels);
  });

  test('treats an empty (null) YAML entry as not set', () => {
    const config = parseConfig({ plugins: [{ ...http, retry: null, labels: null }] }, { env: {} });
    assert.deepEqual(config.plugins[0]!.retry, DEFAULT_POLICY.retry);
    assert.deepEqual(config.plugins[0]!.labels, {});
  });

  test('reads durations and sizes in every section', () => {
    const config = parseConfig(
      {
        plugins: [
          {
            ...http,
            circuitBreaker: { recoveryTimeout: '1m30s', windowMs: 2500 },
            healthCheck: { interval: '2h', timeout: '1.5s' },
            connection: { requestTimeout: '100us', maxResponseBytes: '512KiB' },
            rateLimit: { maxWait: '0' },
            startup: { timeout: '250ms' },
          },
        ],
      },
      { env: {} },
    );
    const plugin = config.plugins[0]!;
    assert.equal(plugin.circuitBreaker.recoveryTimeout, 90_000);
    assert.equal(plugin.circuitBreaker.windowMs, 2_500);
    assert.equal(plugin.healthCheck.interval, 7_200_000);
    assert.equal(plugin.healthCheck.timeout, 1_500);
    assert.equal(plugin.connection.requestTimeout, 0.1);
    assert.equal(plugin.connection.maxResponseBytes, 512 * 1024);
    assert.equal(plugin.rateLimit.maxWait, 0);
    assert.equal(plugin.startup.timeout, 250);
  });

  test('reads the breaker backoff in either spelling, and refuses a multiplier below 1', () => {
    const config = parseConfig(
      {
        defaults: { circuit_breaker: { recovery_multiplier: 3, max_recovery_timeout: '10m' } },
        plugins: [http, { ...http, name: 'q', circuitBreaker: { recoveryMultiplier: 1 } }],
      },
      { env: {} },
    );
    assert.equal(config.plugins[0]!.circuitBreaker.recoveryMultiplier, 3);
    assert.equal(config.plugins[0]!.circuitBreaker.maxRecoveryTimeout, 600_000);
    assert.equal(config.plugins[1]!.circuitBreaker.recoveryMultiplier, 1);
    assert.equal(config.plugins[1]!.circuitBreaker.maxRecoveryTimeout, 600_000);
    assert.throws(
      () =>
        parseConfig(
          { plugins: [{ ...http, circuitBreaker: { recoveryMultiplier: 0.5 } }] },
          { env: {} },
        ),
      (error: unknown) =>
        isConfigError(error) &&
        error.issues.some((i) => i.path === 'plugins[0].circuitBreaker.recoveryMultiplier'),
    );
  });

  test('reads snake_case and camelCase keys to the same config', () => {
    const snake = {
      default_retry: {
        max_retries: 4,
        initial_interval: '50ms',
        max_interval: '2s',
        random_jitter: false,
      },
      default_circuit_breaker: {
        failure_threshold: 7,
        recovery_timeout: '10s',
        min_request_threshold: 2,
      },
      default_health_check: { failure_limit: 2 },
      default_connection: {
        max_connections: 4,
        max_idle_connections: 2,
        max_response_bytes: '1MiB',
      },
      default_rate_limit: {
        enabled: true,
        requests_per_second: 50,
        burst_size: 5,
        max_wait: '10ms',
      },
      retry_budget: { min_per_second: 3 },
      startup_concurrency: 2,
      readiness: { policy: { min_ready: 1 } },
      groups: { my_group: { strategy: 'p2c', options: { virtual_nodes: 10 } } },
      plugins: [
        {
          name: 'vault',
          transport: 'https',
          endpoint: 'https://vault.internal/api',
          group: 'my_group',
          labels: { team_name: 'core' },
          options: { batch_size: 3 },
          auth: { method: 'mtls', cert_file: 'c.pem', key_file: 'k.pem', ca_file: 'ca.pem' },
          tls: { server_name: 'vault', insecure_skip_verify: true },
          health_check: { endpoint: '/healthz' },
          circuit_breaker: {
            error_threshold_percentage: 20,
            success_threshold: 1,
            window_ms: '5s',
          },
        },
        { name: 'sock', transport: 'unix', socket_path: '/run/p.sock' },
        {
          name: 'job',
          transport: 'exec',
          executable: '/bin/job',
          work_dir: '/tmp',
          env: ['A_B=1'],
        },
        {
          name: 'key',
          transport: 'http',
          endpoint: 'http://h/x',
          auth: { method: 'api-key', api_key: 'k-123' },
        },
      ],
    };
    const camel = {
      defaults: {
        retry: { maxRetries: 4, initialInterval: '50ms', maxInterval: '2s', randomJitter: false },
        circuitBreaker: { failureThreshold: 7, recoveryTimeout: '10s', minRequestThreshold: 2 },
        healthCheck: { failureLimit: 2 },
        connection: { maxConnections: 4, maxIdleConnections: 2, maxResponseBytes: '1MiB' },
        rateLimit: { enabled: true, requestsPerSecond: 50, burstSize: 5, maxWait: '10ms' },
      },
      retryBudget: { minPerSecond: 3 },
      startupConcurrency: 2,
      readiness: { policy: { minReady: 1 } },
      groups: { my_group: { strategy: 'p2c', options: { virtual_nodes: 10 } } },
      plugins: [
        {
          name: 'vault',
          transport: 'https',
          endpoint: 'https://vault.internal/api',
          group: 'my_group',
          labels: { team_name: 'core' },
          options: { batch_size: 3 },
          auth: { method: 'mtls', certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' },
          tls: { serverName: 'vault', insecureSkipVerify: true },
          healthCheck: { endpoint: '/healthz' },
          circuitBreaker: { errorThresholdPercentage: 20, successThreshold: 1, windowMs: '5s' },
        },
        { name: 'sock', transport: 'unix', socketPath: '/run/p.sock' },
        { name: 'job', transport: 'exec', executable: '/bin/job', workDir: '/tmp', env: ['A_B=1'] },
        {
          name: 'key',
          transport: 'http',
          endpoint: 'http://h/x',
          auth: { method: 'api-key', apiKey: 'k-123' },
        },
      ],
    };
    const fromSnake = parseConfig(snake, { env: {} });
    assert.deepEqual(fromSnake, parseConfig(camel, { env: {} }));
    // User maps keep their keys as written.
    assert.deepEqual(Object.keys(fromSnake.groups), ['my_group']);
    assert.deepEqual(fromSnake.plugins[0]!.labels, { team_name: 'core' });
    assert.deepEqual(fromSnake.plugins[0]!.options, { batch_size: 3 });
    assert.equal(fromSnake.defaults.retry.maxRetries, 4);
    assert.equal(fromSnake.plugins[1]!.retry.maxRetries, 4);
  });

  test('keeps auth header names as written', () => {
    const config = parseConfig(
      { plugins: [{ ...http, auth: { method: 'custom', headers: { X_Api_Token: 'abc-123' } } }] },
      { env: {} },
    );
    assert.deepEqual(config.plugins[0]!.auth.headers, { X_Api_Token: 'abc-123' });
  });

  test('keeps a "__proto__" key in options from changing any prototype', () => {
    const input = JSON.parse(
      '{"plugins":[{"name":"p","transport":"exec","executable":"/bin/p","options":{"nested":{"__proto__":{"polluted":true}}}}]}',
    ) as unknown;
    const options = parseConfig(input, { env: {} }).plugins[0]!.options;
    assert.equal(Object.getPrototypeOf(options.nested), Object.prototype);
    assert.equal((options.nested as { polluted?: unknown }).polluted, undefined);
  });

  test('accepts the gRPC target forms', () => {
    const targets = [
      'plugin.internal:50051',
      '[::1]:50051',
      'grpc://h:1',
      'dns:///h:443',
      'unix:/run/g.sock',
    ];
    const config = parseConfig(
      { plugins: targets.map((endpoint, i) => ({ name: `g${i}`, transport: 'grpc', endpoint })) },
      { env: {} },
    );
    assert.deepEqual(
      config.plugins.map((p) => p.endpoint),
      targets,
    );
  });

  test('accepts a unix socket as an endpoint URL or an absolute path', () => {
    const config = parseConfig(
      {
        plugins: [
          { name: 'a', transport: 'unix', endpoint: 'unix:///run/a.sock' },
          { name: 'b', transport: 'unix', endpoint: '/run/b.sock', socketPath: '/run/b.sock' },
        ],
      },
      { env: {} },
    );
    assert.equal(config.plugins.length, 2);
  });

  test('accepts the readiness policies', () => {
    for (const policy of ['attempted', 'healthy', { minReady: 0 }]) {
      assert.deepEqual(
        parseConfig({ readiness: { policy }, plugins: [] }, { env: {} }).readiness.policy,
        policy,
      );
    }
  });
});

describe('parseConfig with ${ENV} references', () => {
  test('replaces references in any string, including free-form options', () => {
    const config = parseConfig(
      {
        plugins: [
          {
            ...http,
            endpoint: 'http://${HOST}:${PORT}/x',
            labels: { region: '${REGION}' },
            options: { nested: ['${REGION}', { deep: 'at ${REGION}' }], count: 3 },
          },
        ],
      },
      { env: { HOST: 'plugins.internal', PORT: '9000', REGION: 'eu-west' } },
    );
    const plugin = config.plugins[0]!;
    assert.equal(plugin.endpoint, 'http://plugins.internal:9000/x');
    assert.deepEqual(plugin.labels, { region: 'eu-west' });
    assert.deepEqual(plugin.options, { nested: ['eu-west', { deep: 'at eu-west' }], count: 3 });
  });

  test('uses the fallback when a variable is unset or empty', () => {
    const config = parseConfig(
      { plugins: [{ ...http, endpoint: '${URL:-http://fallback/x}', type: '${KIND:-resizer}' }] },
      { env: { KIND: '' } },
    );
    assert.equal(config.plugins[0]!.endpoint, 'http://fallback/x');
    assert.equal(config.plugins[0]!.type, 'resizer');
  });

  test('reads numbers, booleans and durations from variables', () => {
    const config = parseConfig(
      {
        plugins: [
          {
            ...http,
            enabled: '${ENABLED}',
            retry: { maxRetries: '${RETRIES}' },
            healthCheck: { interval: '${INTERVAL:-10s}' },
          },
        ],
      },
      { env: { ENABLED: 'false', RETRIES: '7' } },
    );
    const plugin = config.plugins[0]!;
    assert.equal(plugin.enabled, false);
    assert.equal(plugin.retry.maxRetries, 7);
    assert.equal(plugin.healthCheck.interval, 10_000);
  });

  test('reports a variable that is not a number where a number is expected', () => {
    const error = rejection(() =>
      parseConfig(
        { plugins: [{ ...http, retry: { maxRetries: '${RETRIES}' } }] },
        { env: { RETRIES: 'many' } },
      ),
    );
    assert.deepEqual(
      error.issues.map((i) => i.path),
      ['plugins[0].retry.maxRetries'],
    );
    assert.doesNotMatch(error.message, /many/);
  });

  test('reads only the env object it is given', () => {
    process.env.PLUGWIRE_TEST_ONLY_IN_PROCESS = 'yes';
    try {
      const error = rejection(() =>
        parseConfig(
          { plugins: [{ ...http, type: '${PLUGWIRE_TEST_ONLY_IN_PROCESS}' }] },
          { env: {} },
        ),
      );
      assert.equal(error.issues[0]?.path, 'plugins[0].type');
    } finally {
      delete process.env.PLUGWIRE_TEST_ONLY_IN_PROCESS;
    }
  });

  test('keeps $${ as a literal ${ and a lone $ as it is', () => {
    const config = parseConfig(
      {
        plugins: [
          { ...http, auth: { method: 'basic', username: 'u', password: 'pa$$word-$${X}' } },
        ],
      },
      { env: {} },
    );
    assert.equal(config.plugins[0]!.auth.password, 'pa$$word-${X}');
  });
});

describe('parseConfig keeps secrets out of errors', () => {
  test('a bearer token from the environment never appears in the error', () => {
    const token = 'tok-9f8e7d6c5b4a';
    const error = rejection(() =>
      parseConfig(
        {
          plugins: [
            // The token reaches the error only if something echoes the endpoint or the auth block.
            {
              ...http,
              endpoint: 'https://h/${TOKEN}',
              auth: { method: 'bearer', token: '${TOKEN}' },
            },
          ],
        },
        { env: { TOKEN: token } },
      ),
    );
    assert.ok(error.issues.length > 0);
    assert.doesNotMatch(error.message, new RegExp(token));
    assert.doesNotMatch(JSON.stringify(error), new RegExp(token));
  });

  test('a password of the wrong type is described, not echoed', () => {
    const error = rejection(() =>
      parseConfig(
        { plugins: [{ ...http, auth: { method: 'basic', username: 'u', password: 31415926535 } }] },
        { env: {} },
      ),
    );
    assert.deepEqual(error.issues, [
      {
        path: 'plugins[0].auth.password',
        message: 'expected a string, got a number',
        code: ErrorCode.InvalidConfig,
      },
    ]);
    assert.doesNotMatch(JSON.stringify(error), /31415926535/);
  });

  test('a literal password in an invalid config never appears in the error', () => {
    const password = 'correct-horse-battery-staple';
    const error = rejection(() =>
      parseConfig(
        {
          plugins: [
            { ...http, transport: 'smtp', auth: { method: 'basic', username: 'u', password } },
          ],
        },
        { env: {} },
      ),
    );
    assert.doesNotMatch(error.message, new RegExp(password));
    assert.doesNotMatch(JSON.stringify(error), new RegExp(password));
  });

  test('a secret from the environment is redacted from later errors too', () => {
    const key = 'key-0a1b2c3d4e5f';
    parseConfig(
      { plugins: [{ ...http, auth: { method: 'api-key', apiKey: '${KEY}' } }] },
      { env: { KEY: key } },
    );
    const error = new PluginError(ErrorCode.PluginExecutionFailed, `upstream said ${key}`);
    assert.doesNotMatch(error.message, new RegExp(key));
  });
});

describe('parseConfig with registered transports', () => {
  const queue = {
    validate: (config: { options: Record<string, unknown> }) =>
      config.options.queue === undefined ? [{ path: 'options.queue', message: 'is required' }] : [],
  };

  test('accepts a transport from the map', () => {
    const config = parseConfig(
      { plugins: [{ name: 'q', transport: 'amqp', options: { queue: 'jobs' } }] },
      { env: {}, transports: new Map([['amqp', queue]]) },
    );
    assert.equal(config.plugins[0]!.transport, 'amqp');
  });

  test("reports the transport's own problems under the plugin's path", () => {
    const error = rejection(() =>
      parseConfig(
        { plugins: [http, { name: 'q', transport: 'amqp' }] },
        { env: {}, transports: new Map([['amqp', queue]]) },
      ),
    );
    assert.deepEqual(
      error.issues.map((i) => [i.path, i.message]),
      [['plugins[1].options.queue', 'is required']],
    );
  });

  test('still rejects a transport that is neither built in nor registered', () => {
    const error = rejection(() =>
      parseConfig(
        { plugins: [{ name: 'q', transport: 'kafka' }] },
        { env: {}, transports: new Map([['amqp', queue]]) },
      ),
    );
    assert.deepEqual(
      error.issues.map((i) => i.code),
      [ErrorCode.UnsupportedTransport],
    );
  });

  test('accepts a registered balancing strategy', () => {
    const config = parseConfig(
      { groups: { g: { strategy: 'geo' } }, plugins: [] },
      { env: {}, strategies: ['geo'] },
    );
    assert.equal(config.groups.g?.strategy, 'geo');
  });
});

describe('parsePluginConfig', () => {
  test("layers the given defaults under the plugin's own sections", () => {
    const defaults = { ...DEFAULT_POLICY, retry: { ...DEFAULT_POLICY.retry, maxRetries: 9 } };
    const plugin = parsePluginConfig({ ...http, retry: { multiplier: 3 }, weight: 2 }, defaults, {
      env: {},
    });
    assert.deepEqual(plugin.retry, { ...defaults.retry, multiplier: 3 });
    assert.equal(plugin.weight, 2);
  });

  test('reports paths relative to the plugin and names the plugin', () => {
    const error = rejection(() =>
      parsePluginConfig(
        { name: 'mem', transport: 'http', retry: { max_retries: -2 } },
        DEFAULT_POLICY,
        { env: {} },
      ),
    );
    assert.deepEqual(
      error.issues.map((i) => [i.path, i.code]),
      [
        ['retry.maxRetries', ErrorCode.InvalidConfig],
        ['endpoint', ErrorCode.MissingEndpoint],
      ],
    );
    assert.equal(error.plugin, 'mem');
  });
});
