import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { PluginConfig } from '../../src/config/types.js';
import { ErrorCode } from '../../src/errors.js';
import { grpcFactory } from '../../src/transport/grpc/index.js';
import { generateTestCerts } from '../support/certs.js';
import type { TestCerts } from '../support/certs.js';
import { HANG_GUARD, closeAll, ctx, failure, grpcPlugin, serve } from './grpc-support.js';
import { pluginConfig } from '../../src/config/defaults.js';

let certs: TestCerts;
before(() => {
  certs = generateTestCerts();
});
after(async () => {
  await closeAll();
  certs.remove();
});

function tlsPlugin(endpoint: string, extra: Partial<PluginConfig> = {}) {
  return grpcPlugin(endpoint, {
    transport: 'grpc-tls',
    tls: { caFile: certs.caFile, insecureSkipVerify: false },
    ...extra,
  });
}

describe('grpc-tls', () => {
  test('a server certificate signed by tls.caFile is trusted', HANG_GUARD, async () => {
    const served = await serve((n: number) => n * 3, {
      tls: { cert: certs.serverCert, key: certs.serverKey },
    });
    const plugin = tlsPlugin(served.endpoint);
    await plugin.start?.(AbortSignal.timeout(5_000));
    assert.equal(await plugin.execute(3, ctx()), 9);
    assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
  });

  test('a server certificate from an unknown CA is refused, not retried', HANG_GUARD, async () => {
    const served = await serve((n: number) => n, {
      tls: { cert: certs.serverCert, key: certs.serverKey },
    });
    const plugin = grpcPlugin(served.endpoint, { transport: 'grpc-tls' }); // system CAs only
    const error = await failure(plugin.start!(AbortSignal.timeout(5_000)));
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.equal(error.retryable, false);
    assert.match(error.message, /TLS/);
  });

  test(
    'mTLS: a client presenting a certificate signed by the CA is accepted',
    HANG_GUARD,
    async () => {
      const served = await serve((n: number) => n + 1, {
        tls: {
          cert: certs.serverCert,
          key: certs.serverKey,
          ca: certs.ca,
          requestClientCert: true,
        },
      });
      const plugin = tlsPlugin(served.endpoint, {
        auth: {
          method: 'mtls',
          certFile: certs.clientCertFile,
          keyFile: certs.clientKeyFile,
          caFile: certs.caFile,
        },
        tls: undefined,
      });
      await plugin.start?.(AbortSignal.timeout(5_000));
      assert.equal(await plugin.execute(1, ctx()), 2);
    },
  );

  test(
    'mTLS: a client without a certificate is refused and the handler never runs',
    HANG_GUARD,
    async () => {
      let ran = false;
      const served = await serve(() => (ran = true), {
        tls: {
          cert: certs.serverCert,
          key: certs.serverKey,
          ca: certs.ca,
          requestClientCert: true,
        },
      });
      const plugin = tlsPlugin(served.endpoint);
      const error = await failure(plugin.execute({}, ctx({ deadline: Date.now() + 5_000 })));
      assert.ok(
        [ErrorCode.PluginConnectionFailed, ErrorCode.GRPCTransportError].includes(
          error.code as never,
        ),
        `refused at the connection, got ${error.code}: ${error.message}`,
      );
      assert.equal(ran, false);
    },
  );

  test(
    'a missing certificate file fails start with the field and the path named',
    HANG_GUARD,
    async () => {
      const missing = join(certs.dir, 'nope.crt');
      const plugin = tlsPlugin('127.0.0.1:1', {
        auth: { method: 'mtls', certFile: missing, keyFile: certs.clientKeyFile },
      });
      const error = await failure(plugin.start!(AbortSignal.timeout(5_000)));
      assert.equal(error.code, ErrorCode.MissingMTLSCerts);
      assert.equal(error.retryable, false);
      assert.match(error.message, /auth\.certFile/);
      assert.ok(error.message.includes(missing));
    },
  );

  test('a file that is not PEM fails start with a clear error', HANG_GUARD, async () => {
    const plugin = tlsPlugin('127.0.0.1:1', {
      tls: { caFile: join(certs.dir, 'server.ext'), insecureSkipVerify: false },
    });
    const error = await failure(plugin.start!(AbortSignal.timeout(5_000)));
    assert.equal(error.code, ErrorCode.MissingMTLSCerts);
    assert.match(error.message, /tls\.caFile ".*server\.ext" is not a PEM certificate/);
  });
});

test('validation refuses mtls and TLS files on the plaintext grpc transport', () => {
  const problems = grpcFactory.validate?.(
    pluginConfig({
      name: 'p',
      transport: 'grpc',
      endpoint: '127.0.0.1:1',
      auth: { method: 'mtls', certFile: 'c', keyFile: 'k' },
      tls: { caFile: 'ca', insecureSkipVerify: false },
    }),
  );
  assert.deepEqual(
    problems?.map((p) => p.path),
    ['auth.method', 'tls'],
  );
});
