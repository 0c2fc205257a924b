import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import type { PluginConfig } from '../../src/config/types.js';
import { ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { serveHttp } from '../../src/sdk/http.js';
import type { ServedPlugin } from '../../src/sdk/types.js';
import { httpFactory } from '../../src/transport/http/index.js';
import type { Plugin } from '../../src/types.js';
import { generateTestCerts, type TestCerts } from '../support/certs.js';
import { callContext as ctx } from '../support/context.js';
import { rejection } from '../support/assertions.js';

let certs: TestCerts;
const open: Array<{ close(): Promise<void> }> = [];

before(() => {
  certs = generateTestCerts();
});
after(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
  certs.remove();
});

function create(endpoint: string, extra: Partial<PluginConfig>): Plugin<unknown, unknown> {
  const config = pluginConfig({ name: 'secure', transport: 'https', endpoint, ...extra });
  assert.deepEqual(httpFactory.validate?.(config), []);
  const plugin = httpFactory.create(config, { codec: jsonCodec, logger: silentLogger });
  open.push(plugin);
  return plugin;
}

async function started(endpoint: string, extra: Partial<PluginConfig>): Promise<Plugin> {
  const plugin = create(endpoint, extra);
  await plugin.start?.(new AbortController().signal);
  return plugin;
}

async function serveTls(requestCert: boolean): Promise<ServedPlugin> {
  const served = await serveHttp(() => 'secret handshake', {
    tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert },
  });
  open.push(served);
  return served;
}

describe('HTTPS transport', () => {
  test('a server whose certificate is signed by tls.caFile is trusted', async () => {
    const served = await serveTls(false);
    assert.match(served.endpoint, /^https:/);
    const plugin = await started(served.endpoint, {
      tls: { caFile: certs.caFile, insecureSkipVerify: false },
    });
    assert.equal(await plugin.execute(null, ctx()), 'secret handshake');
    assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
  });

  test('a server signed by an unknown CA is refused, not retryably', async () => {
    const served = await serveTls(false);
    const plugin = await started(served.endpoint, {});
    const error = await rejection(plugin.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.equal(error.retryable, false);
  });

  test('insecureSkipVerify accepts a server signed by an unknown CA', async () => {
    const served = await serveTls(false);
    const plugin = await started(served.endpoint, { tls: { insecureSkipVerify: true } });
    assert.equal(await plugin.execute(null, ctx()), 'secret handshake');
  });

  test('tls.serverName is the name the certificate is checked against', async () => {
    const served = await serveTls(false);
    const plugin = await started(served.endpoint, {
      tls: { caFile: certs.caFile, serverName: 'not-localhost.example', insecureSkipVerify: false },
    });
    const error = await rejection(plugin.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.match(error.message, /not-localhost\.example|altnames|ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  test('mTLS: a server that requires a client certificate accepts ours', async () => {
    const served = await serveTls(true);
    const plugin = await started(served.endpoint, {
      auth: {
        method: 'mtls',
        certFile: certs.clientCertFile,
        keyFile: certs.clientKeyFile,
        caFile: certs.caFile,
      },
    });
    assert.equal(await plugin.execute(null, ctx()), 'secret handshake');
  });

  test('mTLS: the same server refuses a client without a certificate', async () => {
    const served = await serveTls(true);
    const plugin = await started(served.endpoint, {
      tls: { caFile: certs.caFile, insecureSkipVerify: false },
    });
    const error = await rejection(plugin.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
  });

  test('a missing certificate file fails start() with an error naming the file', async () => {
    const missing = join(certs.dir, 'nope.crt');
    const plugin = create('https://127.0.0.1:1', {
      auth: { method: 'mtls', certFile: missing, keyFile: certs.clientKeyFile },
    });
    const error = await rejection(plugin.start!(new AbortController().signal));
    assert.equal(error.code, ErrorCode.MissingMTLSCerts);
    assert.ok(error.message.includes(missing), error.message);
    assert.match(error.message, /auth\.certFile/);
    assert.match(error.message, /ENOENT/);
  });

  test('the error for an unreadable key never contains file content', async () => {
    // A directory cannot be read as a file: the read fails after the path is known good.
    const plugin = create('https://127.0.0.1:1', {
      auth: { method: 'mtls', certFile: certs.clientCertFile, keyFile: certs.dir },
    });
    const error = await rejection(plugin.start!(new AbortController().signal));
    assert.doesNotMatch(JSON.stringify(error.toJSON()), /BEGIN/);
    assert.match(error.message, /auth\.keyFile/);
  });
});
