import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../src/builtinConfig.js';
import {
  ErrorCode,
  PluginError,
  isConfigError,
  isPluginError,
  redactSecrets,
} from '../../src/errors.js';
import { Manager } from '../../src/manager.js';
import type { Logger } from '../../src/types.js';

// Only values of secret fields are secrets (src/config/secrets.ts). Each test file runs in its
// own process, so the values registered here are this file's only.

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function withEnv(vars: Record<string, string>): void {
  for (const [name, value] of Object.entries(vars)) process.env[name] = value;
  cleanups.push(() => {
    for (const name of Object.keys(vars)) delete process.env[name];
  });
}

function recordingLogger(): Logger & { text(): string } {
  const lines: string[] = [];
  const at = (fields: Record<string, unknown>, message?: string) =>
    void lines.push(`${message ?? ''} ${JSON.stringify(fields)}`);
  return { debug: at, info: at, warn: at, error: at, text: () => lines.join('\n') };
}

/** A plugin that answers every call with an application error quoting its Authorization header. */
async function tattletale(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ error: `refused credentials ${req.headers.authorization}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('values from ${ENV} in fields that are not secret stay readable', () => {
  test('a host from ${PLUGIN_HOST} shows in a connection error', async () => {
    withEnv({ I11_PLUGIN_HOST: '127.0.0.1' });
    const manager = new Manager();
    cleanups.push(() => manager.shutdown());
    await manager.load({
      plugins: [
        {
          name: 'down',
          transport: 'http',
          endpoint: 'http://${I11_PLUGIN_HOST}:1',
          retry: { max_retries: 0 },
          health_check: { enabled: false },
          startup: { max_attempts: 1 },
        },
      ],
    });
    const error = await manager.execute('down', {}).then(
      () => assert.fail('the call succeeded'),
      (e: unknown) => e as PluginError,
    );
    assert.ok(isPluginError(error));
    const text = JSON.stringify(error.toJSON());
    assert.match(text, /127\.0\.0\.1:1/);
    assert.doesNotMatch(text, /REDACTED/);
  });

  test('group, labels, options and plain env entries from ${ENV} are not redacted anywhere', () => {
    const env = { REGION: 'eu-west-3-zone', LEVEL: 'verbose-ish', TEAM: 'billing-team' };
    parseConfig(
      {
        plugins: [
          {
            name: 'p',
            transport: 'exec',
            executable: '/bin/cat',
            env: ['LOG_LEVEL=${LEVEL}'],
            labels: { team: '${TEAM}' },
            options: { region: '${REGION}' },
          },
        ],
      },
      { env },
    );
    for (const value of Object.values(env)) {
      assert.equal(redactSecrets(`seen ${value}`), `seen ${value}`);
    }
  });

  test('the hint for a missing variable names it whole, fallback syntax included', () => {
    try {
      parseConfig(
        { plugins: [{ name: 'p', transport: 'http', endpoint: 'http://x/${TEXT_TOOLS_TOKEN}' }] },
        { env: {} },
      );
      assert.fail('accepted');
    } catch (error) {
      assert.ok(isConfigError(error));
      assert.match(error.message, /\$\{TEXT_TOOLS_TOKEN:-value\}/);
      assert.doesNotMatch(error.message, /REDACTED/);
    }
  });
});

describe('values of secret fields are redacted everywhere', () => {
  test('an auth token from ${ENV}: in errors, their JSON and causes, and in logs', async () => {
    const token = 'tok-5f1e2d3c4b5a69788796';
    withEnv({ I11_TOKEN: token });
    const plugin = await tattletale();
    const logger = recordingLogger();
    const manager = new Manager({ logger });
    cleanups.push(() => manager.shutdown());
    await manager.load({
      plugins: [
        {
          name: 'tattle',
          transport: 'http',
          endpoint: plugin.url,
          auth: { method: 'bearer', token: '${I11_TOKEN}' },
          health_check: { enabled: false },
        },
      ],
    });
    const error = await manager.execute('tattle', {}).then(
      () => assert.fail('the call succeeded'),
      (e: unknown) => e as PluginError,
    );
    assert.equal(error.code, ErrorCode.ApplicationError);
    assert.match(error.message, /refused credentials Bearer \[REDACTED\]/);
    const wrapped = new PluginError(ErrorCode.PluginExecutionFailed, 'outer', { cause: error });
    for (const text of [error.message, JSON.stringify(error), JSON.stringify(wrapped)]) {
      assert.doesNotMatch(text, new RegExp(token));
    }
    assert.doesNotMatch(logger.text(), new RegExp(token));
  });

  test('secret-named env entries, options and URL passwords, typed in or from ${ENV}', () => {
    const secrets = {
      API_TOKEN: 'envtok-7a6b5c4d',
      DB_PASSWORD: 'pw-from-file-31337',
      CLIENT: 'cs-8e7f6a5b4c',
      URLPASS: 'urlpw-9911',
    };
    parseConfig(
      {
        plugins: [
          {
            name: 'a',
            transport: 'exec',
            executable: '/bin/cat',
            env: ['API_TOKEN=${API_TOKEN}', `DB_PASSWORD=${secrets.DB_PASSWORD}`],
            options: { oauth: { clientSecret: '${CLIENT}' } },
          },
          { name: 'b', transport: 'http', endpoint: 'http://user:${URLPASS}@127.0.0.1:9/x' },
        ],
      },
      { env: secrets },
    );
    for (const value of Object.values(secrets)) {
      assert.equal(redactSecrets(`leak ${value} here`), 'leak [REDACTED] here');
    }
  });

  test('custom auth header values and an api key in a rejected config never show', () => {
    const key = 'ak-0f9e8d7c6b5a';
    try {
      parseConfig(
        {
          plugins: [
            {
              name: 'p',
              transport: 'smtp',
              auth: { method: 'custom', headers: { 'X-Signature': key } },
            },
          ],
        },
        { env: {} },
      );
      assert.fail('accepted');
    } catch (error) {
      assert.ok(isConfigError(error));
      assert.doesNotMatch(JSON.stringify(error), new RegExp(key));
      assert.doesNotMatch(redactSecrets(`header was ${key}`), new RegExp(key));
    }
  });
});
