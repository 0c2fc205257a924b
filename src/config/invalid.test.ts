import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, isConfigError, type ConfigError } from '../errors.js';
import { parseConfig } from '../builtinConfig.js';

const http = { name: 'p', transport: 'http', endpoint: 'http://127.0.0.1:8080/plugin' };

/** A config whose only plugin is `http` with `fields` added (or replaced). */
function withPlugin(fields: Record<string, unknown>): Record<string, unknown> {
  return { plugins: [{ ...http, ...fields }] };
}

function issuesOf(input: unknown, env: Record<string, string> = {}): Array<[string, string]> {
  try {
    parseConfig(input, { env });
  } catch (error) {
    assert.ok(isConfigError(error), 'expected a ConfigError');
    return (error as ConfigError).issues.map((issue) => [issue.path, issue.code]);
  }
  assert.fail('expected the config to be rejected');
}

type Case = [description: string, input: unknown, expected: Array<[path: string, code: string]>];

const C = ErrorCode;
const cases: Case[] = [
  ['a config without a plugins key', { defaults: {} }, [['plugins', C.NoPluginsConfigured]]],
  ['a config that is not an object', ['plugins'], [['', C.InvalidConfig]]],
  ['plugins that are not a list', { plugins: { p: http } }, [['plugins', C.InvalidConfig]]],
  ['a plugin that is not an object', { plugins: ['p'] }, [['plugins[0]', C.InvalidConfig]]],
  [
    'a name with a space',
    withPlugin({ name: 'my plugin' }),
    [['plugins[0].name', C.InvalidPluginName]],
  ],
  [
    'a name starting with a dot',
    withPlugin({ name: '.hidden' }),
    [['plugins[0].name', C.InvalidPluginName]],
  ],
  [
    'a name of 129 characters',
    withPlugin({ name: 'a'.repeat(129) }),
    [['plugins[0].name', C.InvalidPluginName]],
  ],
  [
    'a plugin without a name',
    { plugins: [{ transport: 'exec', executable: '/bin/p' }] },
    [['plugins[0].name', C.InvalidPluginName]],
  ],
  [
    'a plugin without a transport',
    { plugins: [{ name: 'p', endpoint: 'http://h/x' }] },
    [['plugins[0].transport', C.InvalidTransport]],
  ],
  [
    'a transport that is not a string',
    withPlugin({ transport: 42 }),
    [['plugins[0].transport', C.InvalidTransport]],
  ],
  [
    'an unknown transport',
    withPlugin({ transport: 'carrier-pigeon' }),
    [['plugins[0].transport', C.UnsupportedTransport]],
  ],
  [
    'http without an endpoint',
    { plugins: [{ name: 'p', transport: 'http' }] },
    [['plugins[0].endpoint', C.MissingEndpoint]],
  ],
  [
    'https with an endpoint that is not a URL',
    withPlugin({ transport: 'https', endpoint: 'vault.internal' }),
    [['plugins[0].endpoint', C.InvalidEndpointURL]],
  ],
  [
    'https with an http:// endpoint',
    withPlugin({ transport: 'https' }),
    [['plugins[0].endpoint', C.InvalidEndpointURL]],
  ],
  [
    'an endpoint that is not a string',
    withPlugin({ endpoint: 8080 }),
    [['plugins[0].endpoint', C.InvalidEndpointFormat]],
  ],
  [
    'grpc without an endpoint',
    { plugins: [{ name: 'g', transport: 'grpc' }] },
    [['plugins[0].endpoint', C.MissingEndpoint]],
  ],
  [
    'grpc with a host but no port',
    withPlugin({ transport: 'grpc', endpoint: 'plugin.internal' }),
    [['plugins[0].endpoint', C.InvalidEndpointFormat]],
  ],
  [
    'grpc with a port out of range',
    withPlugin({ transport: 'grpc-tls', endpoint: 'grpc://h:70000' }),
    [['plugins[0].endpoint', C.InvalidEndpointFormat]],
  ],
  [
    'unix without a socket',
    { plugins: [{ name: 'u', transport: 'unix' }] },
    [['plugins[0].socketPath', C.MissingSocketPath]],
  ],
  [
    'unix with a relative endpoint',
    withPlugin({ transport: 'unix', endpoint: 'run/p.sock' }),
    [['plugins[0].endpoint', C.InvalidEndpointFormat]],
  ],
  [
    'unix with two different sockets',
    withPlugin({ transport: 'unix', endpoint: 'unix:///a.sock', socketPath: '/b.sock' }),
    [['plugins[0].socketPath', C.InvalidConfig]],
  ],
  [
    'exec without an executable',
    { plugins: [{ name: 'e', transport: 'exec' }] },
    [['plugins[0].executable', C.MissingExecutable]],
  ],
  [
    'two plugins with one name',
    { plugins: [http, { ...http }] },
    [['plugins[1].name', C.DuplicatePluginName]],
  ],
  [
    "a plugin named like another plugin's group",
    {
      plugins: [
        { ...http, name: 'pay-a', group: 'payments' },
        { ...http, name: 'payments' },
      ],
    },
    [['plugins[1].name', C.DuplicatePluginName]],
  ],
  [
    'a plugin named like a configured group',
    { groups: { payments: { strategy: 'p2c' } }, plugins: [{ ...http, name: 'payments' }] },
    [['plugins[0].name', C.DuplicatePluginName]],
  ],
  [
    'an invalid group name',
    { groups: { 'my group': {} }, plugins: [] },
    [['groups["my group"]', C.InvalidPluginName]],
  ],
  [
    'an invalid group in a plugin',
    withPlugin({ group: 'a/b' }),
    [['plugins[0].group', C.InvalidPluginName]],
  ],
  [
    'api-key auth without a key',
    withPlugin({ auth: { method: 'api-key' } }),
    [['plugins[0].auth.apiKey', C.MissingAPIKey]],
  ],
  [
    'bearer auth without a token',
    withPlugin({ auth: { method: 'bearer' } }),
    [['plugins[0].auth.token', C.MissingBearerToken]],
  ],
  [
    'basic auth without a password',
    withPlugin({ auth: { method: 'basic', username: 'u' } }),
    [['plugins[0].auth.password', C.MissingBasicCredentials]],
  ],
  [
    'basic auth without credentials',
    withPlugin({ auth: { method: 'basic' } }),
    [
      ['plugins[0].auth.username', C.MissingBasicCredentials],
      ['plugins[0].auth.password', C.MissingBasicCredentials],
    ],
  ],
  [
    'mtls auth without files',
    withPlugin({ transport: 'https', endpoint: 'https://h/x', auth: { method: 'mtls' } }),
    [
      ['plugins[0].auth.certFile', C.MissingMTLSCerts],
      ['plugins[0].auth.keyFile', C.MissingMTLSCerts],
    ],
  ],
  [
    'mtls auth over plain http',
    withPlugin({ auth: { method: 'mtls', certFile: 'c.pem', keyFile: 'k.pem' } }),
    [['plugins[0].auth.method', C.InvalidConfig]],
  ],
  [
    'an unknown auth method',
    withPlugin({ auth: { method: 'oauth2' } }),
    [['plugins[0].auth.method', C.UnsupportedAuthMethod]],
  ],
  [
    'credentials with method none',
    withPlugin({ auth: { token: 'abcd1234' } }),
    [['plugins[0].auth.method', C.InvalidConfig]],
  ],
  [
    'custom auth without headers',
    withPlugin({ auth: { method: 'custom' } }),
    [['plugins[0].auth.headers', C.InvalidConfig]],
  ],
  [
    'a tls certFile without keyFile',
    withPlugin({ tls: { certFile: 'c.pem' } }),
    [['plugins[0].tls.keyFile', C.InvalidConfig]],
  ],
  ['an unknown plugin key', withPlugin({ retyr: {} }), [['plugins[0].retyr', C.InvalidConfig]]],
  ['an unknown top-level key', { plugin: [], plugins: [] }, [['plugin', C.InvalidConfig]]],
  [
    'one setting spelled both ways',
    withPlugin({ retry: { maxRetries: 1, max_retries: 2 } }),
    [['plugins[0].retry.max_retries', C.InvalidConfig]],
  ],
  [
    'default_retry beside defaults.retry',
    { default_retry: {}, defaults: { retry: {} }, plugins: [] },
    [['default_retry', C.InvalidConfig]],
  ],
  [
    'a negative maxRetries',
    withPlugin({ retry: { maxRetries: -1 } }),
    [['plugins[0].retry.maxRetries', C.InvalidConfig]],
  ],
  [
    'a fractional maxRetries in defaults',
    { defaults: { retry: { maxRetries: 1.5 } }, plugins: [] },
    [['defaults.retry.maxRetries', C.InvalidConfig]],
  ],
  [
    'a quoted number',
    withPlugin({ retry: { maxRetries: '3' } }),
    [['plugins[0].retry.maxRetries', C.InvalidConfig]],
  ],
  [
    'a retry multiplier below 1',
    withPlugin({ retry: { multiplier: 0.5 } }),
    [['plugins[0].retry.multiplier', C.InvalidConfig]],
  ],
  [
    'a maxInterval below initialInterval',
    withPlugin({ retry: { initialInterval: '2s', maxInterval: '1s' } }),
    [['plugins[0].retry.maxInterval', C.InvalidConfig]],
  ],
  [
    'a duration that is not Go syntax',
    withPlugin({ healthCheck: { interval: '10 minutes' } }),
    [['plugins[0].healthCheck.interval', C.InvalidConfig]],
  ],
  [
    'a duration string without a unit',
    withPlugin({ healthCheck: { timeout: '500' } }),
    [['plugins[0].healthCheck.timeout', C.InvalidConfig]],
  ],
  [
    'a zero health interval',
    withPlugin({ healthCheck: { interval: 0 } }),
    [['plugins[0].healthCheck.interval', C.InvalidConfig]],
  ],
  [
    'a negative idle timeout',
    withPlugin({ connection: { idleTimeout: '-1s' } }),
    [['plugins[0].connection.idleTimeout', C.InvalidConfig]],
  ],
  [
    'a size that cannot be read',
    withPlugin({ connection: { maxResponseBytes: '8 megs' } }),
    [['plugins[0].connection.maxResponseBytes', C.InvalidConfig]],
  ],
  [
    'an unknown breaker mode',
    withPlugin({ circuitBreaker: { mode: 'sliding' } }),
    [['plugins[0].circuitBreaker.mode', C.InvalidConfig]],
  ],
  [
    'a failure threshold of 0',
    withPlugin({ circuitBreaker: { failureThreshold: 0 } }),
    [['plugins[0].circuitBreaker.failureThreshold', C.InvalidConfig]],
  ],
  [
    'an error percentage over 100',
    withPlugin({ circuitBreaker: { errorThresholdPercentage: 150 } }),
    [['plugins[0].circuitBreaker.errorThresholdPercentage', C.InvalidConfig]],
  ],
  [
    'an enabled rate limit of 0 per second',
    withPlugin({ rateLimit: { enabled: true, requestsPerSecond: 0 } }),
    [['plugins[0].rateLimit.requestsPerSecond', C.InvalidConfig]],
  ],
  ['a weight of 0', withPlugin({ weight: 0 }), [['plugins[0].weight', C.InvalidConfig]]],
  [
    'an env entry without =',
    withPlugin({ transport: 'exec', executable: '/bin/p', env: ['LOG_LEVEL'] }),
    [['plugins[0].env[0]', C.InvalidConfig]],
  ],
  [
    'a label that is not a string',
    withPlugin({ labels: { version: 2 } }),
    [['plugins[0].labels.version', C.InvalidConfig]],
  ],
  [
    'an unknown group strategy',
    { groups: { payments: { strategy: 'fastest' } }, plugins: [] },
    [['groups.payments.strategy', C.InvalidConfig]],
  ],
  [
    'an unknown readiness policy',
    { readiness: { policy: 'eventually' }, plugins: [] },
    [['readiness.policy', C.InvalidConfig]],
  ],
  [
    'a negative minReady',
    { readiness: { policy: { minReady: -1 } }, plugins: [] },
    [['readiness.policy.minReady', C.InvalidConfig]],
  ],
  [
    'a required plugin that does not exist',
    { readiness: { required: ['vault'] }, plugins: [http] },
    [['readiness.required[0]', C.InvalidConfig]],
  ],
  [
    'a retry budget ratio over 1',
    { retryBudget: { ratio: 1.5 }, plugins: [] },
    [['retryBudget.ratio', C.InvalidConfig]],
  ],
  [
    'a startup concurrency of 0',
    { startupConcurrency: 0, plugins: [] },
    [['startupConcurrency', C.InvalidConfig]],
  ],
];

describe('parseConfig rejects', () => {
  for (const [description, input, expected] of cases) {
    test(`${description}, at the exact path with its code`, () => {
      assert.deepEqual(issuesOf(input), expected);
    });
  }

  test('a missing environment variable, at the path that references it', () => {
    const input = withPlugin({ endpoint: 'http://${PLUGIN_HOST}/x' });
    assert.deepEqual(issuesOf(input), [['plugins[0].endpoint', C.InvalidConfig]]);
  });
});

describe('parseConfig reports', () => {
  test('every problem of a config at once, in document order', () => {
    const input = {
      defaults: { retry: { maxRetries: -1 } },
      groups: { payments: { strategy: 'fastest' } },
      plugins: [
        { name: 'a', transport: 'http' },
        { name: 'a', transport: 'grpc', endpoint: 'nope', retry: { multiplier: 0 }, colour: 'red' },
        { name: 'c', transport: 'exec', auth: { method: 'bearer' } },
      ],
    };
    assert.deepEqual(issuesOf(input), [
      ['defaults.retry.maxRetries', C.InvalidConfig],
      ['groups.payments.strategy', C.InvalidConfig],
      ['plugins[0].endpoint', C.MissingEndpoint],
      ['plugins[1].colour', C.InvalidConfig],
      ['plugins[1].retry.multiplier', C.InvalidConfig],
      ['plugins[1].endpoint', C.InvalidEndpointFormat],
      ['plugins[1].name', C.DuplicatePluginName],
      ['plugins[2].auth.token', C.MissingBearerToken],
      ['plugins[2].executable', C.MissingExecutable],
    ]);
  });

  test('every problem in the error message, by path and code', () => {
    const error = rejection({
      plugins: [
        { name: 'a', transport: 'http' },
        { name: 'b', transport: 'exec' },
      ],
    });
    assert.match(error.message, /plugins\[0\]\.endpoint: .*\[PLUGIN_1003\]/);
    assert.match(error.message, /plugins\[1\]\.executable: .*\[PLUGIN_1007\]/);
    assert.match(error.message, /\(2 problems\)/);
  });

  test('the source in the error message when one is given', () => {
    const error = rejection({}, { source: 'plugins.yaml' });
    assert.match(error.message, /^Invalid plugwire configuration in plugins\.yaml/);
  });

  test('a "did you mean" hint for a misspelt key', () => {
    const error = rejection(withPlugin({ circuitBreaker: { failureTreshold: 3 } }));
    assert.equal(error.issues[0]?.message, 'unknown key; did you mean "failureThreshold"?');
  });

  test('a "did you mean" hint for a misspelt snake_case key, in camelCase', () => {
    const error = rejection(withPlugin({ health_chek: {} }));
    assert.equal(error.issues[0]?.message, 'unknown key; did you mean "healthCheck"?');
  });

  test('the valid choices for an unknown strategy', () => {
    const error = rejection({ groups: { g: { strategy: 'p3c' } }, plugins: [] });
    assert.match(error.issues[0]!.message, /did you mean "p2c"\?/);
    assert.match(error.issues[0]!.message, /round-robin, random, least-connections/);
  });

  test('the variable name of a missing environment variable', () => {
    const error = rejection(withPlugin({ auth: { method: 'bearer', token: '${VAULT_TOKEN}' } }));
    assert.equal(error.issues[0]?.path, 'plugins[0].auth.token');
    assert.match(error.issues[0]!.message, /environment variable VAULT_TOKEN is not set/);
  });

  test('"is required" for a missing field and the expected type for a wrong one', () => {
    const error = rejection({
      plugins: [{ transport: 'exec', executable: '/bin/p', enabled: 'yes' }],
    });
    assert.deepEqual(
      error.issues.map((i) => [i.path, i.message]),
      [
        ['plugins[0].name', 'is required'],
        ['plugins[0].enabled', 'expected true or false, got a string'],
      ],
    );
  });
});

function rejection(input: unknown, options: { source?: string } = {}): ConfigError {
  try {
    parseConfig(input, { env: {}, ...options });
  } catch (error) {
    assert.ok(isConfigError(error));
    return error as ConfigError;
  }
  assert.fail('expected the config to be rejected');
}
