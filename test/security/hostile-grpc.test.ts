// Issue 10: what a hostile gRPC server sends back (status details, foreign request ids, echoed
// credentials) never crashes the host, never leaks a secret and never stalls later calls.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { status as Status } from '@grpc/grpc-js';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { ErrorCode } from '../../src/errors.js';
import { closeAll, ctx, failure, grpcPlugin, plainServer } from '../transport/grpc-support.js';

after(closeAll);

const TOKEN = 'Echoed-Grpc-T0ken-0123456789';

type Call = ServerUnaryCall<Record<string, unknown>, unknown>;

test('a server echoing the authorization metadata in its status details leaks it nowhere', async () => {
  const { endpoint } = await plainServer({
    plugin: {
      Execute(call: Call, callback: sendUnaryData<unknown>) {
        const auth = String(call.metadata.get('authorization')[0]);
        callback({ code: Status.PERMISSION_DENIED, details: `denied for ${auth}` });
      },
    },
  });
  const plugin = grpcPlugin(endpoint, { auth: { method: 'bearer', token: TOKEN } } as never);
  const error = await failure(plugin.execute({}, ctx()));
  assert.equal(error.code, ErrorCode.GRPCTransportError);
  for (const text of [
    error.message,
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    String((error.cause as Error | undefined)?.message),
    inspect(error.cause, { depth: 10 }),
  ]) {
    assert.doesNotMatch(text, /Echoed-Grpc-T0ken/);
  }
  assert.match(error.message, /denied for/);
});

test('a reply whose request_id is not ours is refused (PLUGIN_1209), as on HTTP', async () => {
  const { endpoint } = await plainServer({
    plugin: {
      Execute(_call: Call, callback: sendUnaryData<unknown>) {
        callback(null, { data: Buffer.from('"other data"'), request_id: 'someone-else' });
      },
    },
  });
  const plugin = grpcPlugin(endpoint);
  const error = await failure(plugin.execute({}, ctx()));
  assert.equal(error.code, ErrorCode.InvalidResponse);
  assert.match(error.message, /another request/);
});

test('an empty request_id (the field is optional) and our own are accepted', async () => {
  const { endpoint } = await plainServer({
    plugin: {
      Execute(call: Call, callback: sendUnaryData<unknown>) {
        const echo =
          (call.request.data as Buffer).toString() === '1' ? call.request.request_id : '';
        callback(null, { data: Buffer.from('"ok"'), request_id: echo });
      },
    },
  });
  const plugin = grpcPlugin(endpoint);
  assert.equal(await plugin.execute(1, ctx()), 'ok');
  assert.equal(await plugin.execute(2, ctx()), 'ok');
});

test('a status with 1 MiB of details fails its call with bounded details; the next calls are not held up', async () => {
  let calls = 0;
  const { endpoint } = await plainServer({
    plugin: {
      Execute(_call: Call, callback: sendUnaryData<unknown>) {
        calls++;
        if (calls === 1) {
          callback({ code: Status.INVALID_ARGUMENT, details: 'd'.repeat(1024 * 1024) });
        } else callback(null, { data: Buffer.from('"fine"') });
      },
    },
  });
  const plugin = grpcPlugin(endpoint);
  // grpc-js cannot read trailers that large: the call gets no answer and ends at its deadline.
  const error = await failure(plugin.execute({}, ctx({ deadline: Date.now() + 1_500 })));
  assert.ok(error.message.length < 9_000, `${error.message.length} chars`);
  // Not a timing assertion: each call gets a deadline far below the 6 s stall the issue saw.
  for (let i = 0; i < 3; i++) {
    assert.equal(await plugin.execute({}, ctx({ deadline: Date.now() + 3_000 })), 'fine');
  }
});
