// Fuzz tier (issue 10): hostile HTTP bodies and gRPC messages/statuses, read by the real
// transports from real loopback servers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata, Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServiceDefinition, sendUnaryData } from '@grpc/grpc-js';
import fc from 'fast-check';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { decodeReply } from '../../src/transport/http/reply.js';
import { httpFactory } from '../../src/transport/http/index.js';
import { grpcFactory } from '../../src/transport/grpc/index.js';
import { encodeExecuteResponse } from '../../src/transport/grpc/messages.js';
import { callContext, recordingLogger } from '../fixtures/callContext.js';
import {
  KNOWN_SECRET,
  checkLog,
  checkOutcome,
  deepJson,
  fuzzOptions,
  hostileStream,
  hostileText,
  trapUncaught,
} from './support.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const status = fc.constantFrom(200, 201, 204, 400, 404, 429, 500, 502, 503);
const body = fc.oneof(
  hostileStream,
  fc.integer({ min: 1, max: 8_000 }).map((d) => Buffer.from(`{"error":${deepJson(d)}}`)),
  fc.integer({ min: 1, max: 8_000 }).map((d) => Buffer.from(`{"data":${deepJson(d)}}`)),
  fc
    .record({
      error: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 4 })),
      retryable: fc.jsonValue({ maxDepth: 1 }),
      request_id: fc.oneof(fc.constant('$ID'), fc.jsonValue({ maxDepth: 3 })),
      data: fc.jsonValue({ maxDepth: 4 }),
    })
    .map((envelope) => Buffer.from(JSON.stringify(envelope))),
);

test('HTTP: decodeReply turns any status and body into a value or a PluginError', async () => {
  fc.assert(
    fc.property(status, body, (code, bytes) => {
      let outcome: PromiseSettledResult<unknown>;
      try {
        outcome = {
          status: 'fulfilled',
          value: decodeReply('fuzz', code, bytes, 'application/json', '$ID', jsonCodec),
        };
      } catch (error) {
        outcome = { status: 'rejected', reason: error };
      }
      checkOutcome(outcome);
    }),
    fuzzOptions(500),
  );
});

test('HTTP: a real server answering hostile bodies never crashes the host', async () => {
  let next: { status: number; body: Buffer } = { status: 200, body: Buffer.alloc(0) };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-request-id'] ?? '');
      res.writeHead(next.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(next.body.toString('latin1').replaceAll('$ID', id), 'latin1'));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  const logger = recordingLogger();
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/plugin`;
  const plugin = httpFactory.create(
    pluginConfig({ name: 'fuzz-http', transport: 'http', endpoint }),
    {
      codec: jsonCodec,
      logger,
    },
  );
  cleanups.push(() => plugin.close());
  const trap = trapUncaught();
  try {
    await fc.assert(
      fc.asyncProperty(status, body, async (code, bytes) => {
        next = { status: code, body: bytes };
        const [outcome] = await Promise.allSettled([
          plugin.execute({}, callContext({ signal: AbortSignal.timeout(5_000) })),
        ]);
        checkOutcome(outcome!);
      }),
      fuzzOptions(60),
    );
    checkLog(logger.entries);
    assert.deepEqual(trap.errors, []);
  } finally {
    trap.stop();
  }
});

// The Execute method with raw bytes on the server side: the reply is whatever the fuzzer made.
const rawPlugin: ServiceDefinition = {
  Execute: {
    path: '/plugwire.v1.Plugin/Execute',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

type GrpcReply =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'status'; code: number; details: string; trailer: string };

const grpcReply: fc.Arbitrary<GrpcReply> = fc.oneof(
  fc.uint8Array({ maxLength: 128 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
  fc
    .record({
      data: fc.oneof(
        hostileStream,
        fc.integer({ min: 1, max: 8_000 }).map((d) => Buffer.from(deepJson(d))),
      ),
      error: hostileText,
      retryable: fc.boolean(),
      requestId: fc.constantFrom('', 'someone-else'),
      metadata: fc.dictionary(fc.string({ maxLength: 5 }), hostileText, { maxKeys: 3 }),
    })
    .map((message) => ({ kind: 'bytes' as const, bytes: encodeExecuteResponse(message) })),
  fc
    .record({
      code: fc.integer({ min: 1, max: 16 }),
      details: fc.oneof(hostileText, fc.constant(`echo: Bearer ${KNOWN_SECRET}`)),
      trailer: hostileText,
    })
    .map((fields) => ({ kind: 'status' as const, ...fields })),
);

test('gRPC: hostile messages and statuses settle every call with a value or a PluginError', async () => {
  let next: GrpcReply = { kind: 'bytes', bytes: new Uint8Array() };
  const server = new Server();
  server.addService(rawPlugin, {
    Execute(_call: unknown, callback: sendUnaryData<Buffer>) {
      const reply = next;
      if (reply.kind === 'bytes') return callback(null, Buffer.from(reply.bytes));
      const metadata = new Metadata();
      try {
        metadata.set('echo', reply.trailer);
      } catch {
        // Not valid metadata text: sent without it.
      }
      callback({ code: reply.code, details: reply.details, metadata });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  cleanups.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  const logger = recordingLogger();
  const plugin = grpcFactory.create(
    pluginConfig({ name: 'fuzz-grpc', transport: 'grpc', endpoint: `127.0.0.1:${port}` }),
    { codec: jsonCodec, logger },
  );
  cleanups.push(() => plugin.close());
  const trap = trapUncaught();
  try {
    await fc.assert(
      fc.asyncProperty(grpcReply, async (reply) => {
        next = reply;
        const [outcome] = await Promise.allSettled([
          plugin.execute({}, callContext({ deadline: Date.now() + 5_000 })),
        ]);
        checkOutcome(outcome!);
      }),
      fuzzOptions(80),
    );
    checkLog(logger.entries);
    assert.deepEqual(trap.errors, []);
  } finally {
    trap.stop();
  }
});
