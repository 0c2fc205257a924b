// A plugin server written from proto/*.proto alone (no plugwire code on the server side), as a
// plugin author in another language would write it from docs/protocol/grpc.md.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Metadata, Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { ErrorCode } from '../../src/errors.js';
import type { Codec } from '../../src/types.js';
import { tempDir } from '../support/tmp.js';
import {
  HANG_GUARD,
  closeAll,
  ctx,
  failure,
  grpcPlugin,
  open,
  plainServer,
} from './grpc-support.js';

after(closeAll);

interface ExecuteRequest {
  data: Buffer;
  request_id: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  content_type: string;
}
type Execute = (
  call: ServerUnaryCall<ExecuteRequest, unknown>,
  callback: sendUnaryData<unknown>,
) => void;

/** A server whose Execute answers with `execute`; Info and health as given. */
function pluginServer(execute: Execute, extra: { health?: boolean } = {}) {
  return plainServer({
    plugin: {
      Execute: execute,
      Info: (_call: unknown, callback: sendUnaryData<unknown>) =>
        callback(null, { name: 'polyglot', version: '0.9', capabilities: ['echo'] }),
    },
    ...(extra.health === false
      ? {}
      : {
          health: {
            Check: (_call: unknown, cb: sendUnaryData<unknown>) => cb(null, { status: 'SERVING' }),
          },
        }),
  });
}

/** A codec that is not JSON: `key=value` lines. */
const linesCodec: Codec = {
  name: 'lines',
  contentType: 'text/x-lines',
  encode: (value) =>
    Buffer.from(
      Object.entries(value as Record<string, string>)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    ),
  decode: (bytes) =>
    Object.fromEntries(
      Buffer.from(bytes)
        .toString('utf8')
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    ),
};

describe('a server written from the proto alone', () => {
  test(
    'executes, with the request id, headers and metadata in the message',
    HANG_GUARD,
    async () => {
      let seen: ExecuteRequest | undefined;
      let seenMetadata: Metadata | undefined;
      const { endpoint } = await pluginServer((call, callback) => {
        seen = call.request;
        seenMetadata = call.metadata;
        const value = JSON.parse(call.request.data.toString('utf8')) as { n: number };
        callback(null, {
          data: Buffer.from(JSON.stringify({ double: value.n * 2 })),
          request_id: call.request.request_id,
        });
      });
      const plugin = grpcPlugin(endpoint, { auth: { method: 'api-key', apiKey: 'k-123456' } });
      const reply = await plugin.execute(
        { n: 4 },
        ctx({
          requestId: 'req-9',
          headers: { traceparent: '00-t-s-01', 'x-api-key': 'forged' },
          metadata: { tenant: 'acme' },
        }),
      );
      assert.deepEqual(reply, { double: 8 });
      assert.equal(seen?.request_id, 'req-9');
      assert.equal(seen?.content_type, 'application/json');
      assert.deepEqual(seen?.metadata, { tenant: 'acme' });
      assert.equal(seen?.headers.traceparent, '00-t-s-01');
      assert.deepEqual(seenMetadata?.get('x-request-id'), ['req-9']);
      assert.deepEqual(seenMetadata?.get('traceparent'), ['00-t-s-01']);
      // The configured credentials win over a caller's header of the same name.
      assert.deepEqual(seenMetadata?.get('x-api-key'), ['k-123456']);
    },
  );

  test("a non-JSON codec's bytes are exactly what goes on the wire", HANG_GUARD, async () => {
    let wire: Buffer | undefined;
    let contentType: string | undefined;
    const { endpoint } = await pluginServer((call, callback) => {
      wire = call.request.data;
      contentType = call.request.content_type;
      callback(null, { data: Buffer.from('status=ok\nby=server') });
    });
    const plugin = grpcPlugin(endpoint, {}, linesCodec);
    const reply = await plugin.execute({ a: '1', b: 'two' }, ctx());
    assert.equal(wire?.toString('utf8'), 'a=1\nb=two');
    assert.equal(contentType, 'text/x-lines');
    assert.deepEqual(reply, { status: 'ok', by: 'server' });
  });

  test(
    'ExecuteResponse.error is the plugin\'s "no": PLUGIN_1208, not retryable',
    HANG_GUARD,
    async () => {
      const { endpoint } = await pluginServer((_call, callback) =>
        callback(null, { error: 'card declined', metadata: { reason: 'fraud' } }),
      );
      const error = await failure(grpcPlugin(endpoint).execute({}, ctx()));
      assert.equal(error.code, ErrorCode.ApplicationError);
      assert.equal(error.message, 'card declined');
      assert.equal(error.retryable, false);
      assert.deepEqual(error.details, { metadata: { reason: 'fraud' } });
    },
  );

  test('ExecuteResponse.error with retryable is a retryable PLUGIN_1203', HANG_GUARD, async () => {
    const { endpoint } = await pluginServer((_call, callback) =>
      callback(null, { error: 'warming up', retryable: true }),
    );
    const error = await failure(grpcPlugin(endpoint).execute({}, ctx()));
    assert.equal(error.code, ErrorCode.PluginExecutionFailed);
    assert.equal(error.retryable, true);
  });

  test('an empty reply is "no value" for the JSON codec', HANG_GUARD, async () => {
    const { endpoint } = await pluginServer((_call, callback) => callback(null, {}));
    assert.equal(await grpcPlugin(endpoint).execute({}, ctx()), undefined);
  });

  test('info comes from the Info method', HANG_GUARD, async () => {
    const { endpoint } = await pluginServer((_call, callback) => callback(null, {}));
    assert.deepEqual(await grpcPlugin(endpoint).info(), {
      name: 'polyglot',
      version: '0.9',
      capabilities: ['echo'],
    });
  });

  test('a server without Info is described by the config name', HANG_GUARD, async () => {
    const { endpoint } = await plainServer({ plugin: { Execute: () => {} } });
    assert.deepEqual(await grpcPlugin(endpoint).info(), { name: 'under-test' });
  });

  test('a plain server on a unix socket works', HANG_GUARD, async () => {
    const dir = tempDir('plugwire-grpc-');
    open.push({ close: async () => dir.remove() });
    const address = `unix:${join(dir.dir, 'plain.sock')}`;
    const { endpoint } = await plainServer(
      {
        plugin: {
          Execute: (_call: unknown, cb: sendUnaryData<unknown>) =>
            cb(null, { data: Buffer.from('7') }),
        },
      },
      address,
    );
    assert.equal(await grpcPlugin(endpoint).execute({}, ctx()), 7);
  });
});

describe('gRPC statuses from the server map to codes and retryability', () => {
  const cases: Array<[keyof typeof Status, string, boolean]> = [
    ['UNAVAILABLE', ErrorCode.GRPCTransportError, true],
    ['RESOURCE_EXHAUSTED', ErrorCode.GRPCTransportError, true],
    ['ABORTED', ErrorCode.GRPCTransportError, true],
    ['DEADLINE_EXCEEDED', ErrorCode.PluginTimeout, true],
    ['INVALID_ARGUMENT', ErrorCode.GRPCTransportError, false],
    ['UNAUTHENTICATED', ErrorCode.GRPCTransportError, false],
    ['PERMISSION_DENIED', ErrorCode.GRPCTransportError, false],
    ['NOT_FOUND', ErrorCode.GRPCTransportError, false],
    ['UNIMPLEMENTED', ErrorCode.GRPCTransportError, false],
    ['INTERNAL', ErrorCode.GRPCTransportError, false],
    ['UNKNOWN', ErrorCode.GRPCTransportError, false],
  ];
  for (const [name, code, retryable] of cases) {
    test(`${name} is ${code}, ${retryable ? '' : 'not '}retryable`, HANG_GUARD, async () => {
      const { endpoint } = await pluginServer((_call, callback) =>
        callback({ code: Status[name], details: `said ${name}` }),
      );
      const error = await failure(grpcPlugin(endpoint).execute({}, ctx()));
      assert.equal(error.code, code);
      assert.equal(error.retryable, retryable);
      assert.match(error.message, new RegExp(`said ${name}`));
      assert.equal((error.details as { grpcStatus?: string }).grpcStatus, name);
    });
  }

  test('a reply that is not a plugwire.v1 message is PLUGIN_1209', HANG_GUARD, async () => {
    // A server that answers Execute with bytes that are not an ExecuteResponse.
    const server = new Server();
    server.register(
      '/plugwire.v1.Plugin/Execute',
      (_call: unknown, callback: sendUnaryData<Buffer>) =>
        callback(null, Buffer.from([0x08, 0x01])),
      (reply: Buffer) => reply,
      (request: Buffer) => request,
      'unary',
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    open.push({ close: async () => server.forceShutdown() });
    const error = await failure(grpcPlugin(`127.0.0.1:${port}`).execute({}, ctx()));
    assert.equal(error.code, ErrorCode.InvalidResponse);
    assert.equal(error.retryable, false);
  });
});

describe('health through a plain grpc.health.v1 implementation', () => {
  /** A standard health server reporting `status` for the service names in `services`. */
  async function healthServer(services: Record<string, string>) {
    const asked: string[] = [];
    const { endpoint } = await plainServer({
      health: {
        Check: (
          call: ServerUnaryCall<{ service: string }, unknown>,
          cb: sendUnaryData<unknown>,
        ) => {
          asked.push(call.request.service);
          const status = services[call.request.service];
          if (status === undefined) cb({ code: Status.NOT_FOUND, details: 'unknown service' });
          else cb(null, { status });
        },
      },
    });
    return { endpoint, asked };
  }

  test('SERVING is healthy', HANG_GUARD, async () => {
    const { endpoint, asked } = await healthServer({ '': 'SERVING' });
    const status = await grpcPlugin(endpoint).health(AbortSignal.timeout(5_000));
    assert.equal(status.status, 'healthy');
    assert.equal(status.message, undefined);
    assert.ok(status.lastCheck > 0);
    assert.deepEqual(asked, ['']);
  });

  for (const reported of ['NOT_SERVING', 'UNKNOWN', 'SERVICE_UNKNOWN']) {
    test(`${reported} is unhealthy, and the message says so`, HANG_GUARD, async () => {
      const { endpoint } = await healthServer({ '': reported });
      const status = await grpcPlugin(endpoint).health(AbortSignal.timeout(5_000));
      assert.equal(status.status, 'unhealthy');
      assert.match(status.message ?? '', new RegExp(reported));
    });
  }

  test('options.healthService is the service name asked about', HANG_GUARD, async () => {
    const { endpoint, asked } = await healthServer({ '': 'NOT_SERVING', payments: 'SERVING' });
    const plugin = grpcPlugin(endpoint, { options: { healthService: 'payments' } });
    assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
    assert.deepEqual(asked, ['payments']);
  });

  test(
    'an unknown service (NOT_FOUND) is unhealthy with the fix in the message',
    HANG_GUARD,
    async () => {
      const { endpoint } = await healthServer({ payments: 'SERVING' });
      const status = await grpcPlugin(endpoint).health(AbortSignal.timeout(5_000));
      assert.equal(status.status, 'unhealthy');
      assert.match(status.message ?? '', /options\.healthService/);
    },
  );

  test('a server without the health service is unhealthy, saying so', HANG_GUARD, async () => {
    const { endpoint } = await pluginServer((_call, cb) => cb(null, {}), { health: false });
    const status = await grpcPlugin(endpoint).health(AbortSignal.timeout(5_000));
    assert.equal(status.status, 'unhealthy');
    assert.match(status.message ?? '', /does not implement grpc\.health\.v1\.Health/);
  });
});
