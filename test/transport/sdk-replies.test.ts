// Every SDK server answers alike whether the handler returns a plain value or a promise, throws
// or rejects, and a reply the codec cannot encode fails that call only, with a clear error. The
// servers answer a plain value in the same tick (no promise of their own): these tests hold the
// replies to what they were when every handler was awaited.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Manager, isPluginError } from '../../src/index.js';
import { ErrorCode, applicationError } from '../../src/errors.js';
import { serveStdio } from '../../src/sdk/index.js';
import type { ServedPlugin } from '../../src/sdk/index.js';
import { NETWORK_TRANSPORTS, serveName, serveOn } from '../support/sdkServers.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('plugwire-sdk-replies-');
after(() => tmp.remove());

type Kind = 'plain' | 'async' | 'throw' | 'reject' | 'bigint' | 'bigint-async' | 'function';

function handler(request: { kind: Kind; n: number }): unknown {
  switch (request.kind) {
    case 'plain':
      return { n: request.n, kind: 'plain' };
    case 'async':
      return new Promise((resolve) =>
        setTimeout(() => resolve({ n: request.n, kind: 'async' }), 5),
      );
    case 'throw':
      throw applicationError(`no to ${request.n}`);
    case 'reject':
      return Promise.reject(applicationError(`later no to ${request.n}`));
    case 'bigint':
      return { n: BigInt(request.n) };
    case 'bigint-async':
      return Promise.resolve({ n: BigInt(request.n) });
    case 'function':
      return () => request.n;
  }
}

/** What each kind of call ends in, as the host sees it. */
async function outcomes(
  manager: Manager,
  name: string,
): Promise<Record<Exclude<Kind, 'function'>, unknown>> {
  const kinds = ['plain', 'async', 'throw', 'reject', 'bigint', 'bigint-async'] as const;
  // All in flight together, each kind several times, interleaved.
  const calls = Array.from({ length: 24 }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    const n = 1_000 + i; // never part of a status code
    return manager.execute(name, { kind, n }).then(
      (value) => ({ kind, n, value }),
      (error: unknown) => ({ kind, n, error }),
    );
  });
  const settled = await Promise.all(calls);
  const byKind = {} as Record<Exclude<Kind, 'function'>, unknown>;
  for (const result of settled) {
    const seen =
      'value' in result
        ? { value: result.value }
        : isPluginError(result.error)
          ? {
              code: result.error.code,
              retryable: result.error.retryable,
              // The number the call carried is in the message where the plugin's own is kept.
              message: result.error.message.replace(String(result.n), 'N'),
            }
          : { error: String(result.error) };
    if ('value' in seen) {
      assert.deepEqual(seen.value, { n: result.n, kind: result.kind }, 'each reply is its own');
    }
    const summary = 'value' in seen ? 'value' : seen;
    if (result.kind in byKind) assert.deepEqual(byKind[result.kind], summary, result.kind);
    byKind[result.kind] = summary;
  }
  return byKind;
}

for (const transport of NETWORK_TRANSPORTS) {
  test(`${serveName(transport)}: plain values and promises, throws and rejections, unencodable replies`, async () => {
    let served: ServedPlugin | undefined;
    const manager = new Manager();
    try {
      let endpoint: string;
      ({ served, endpoint } = await serveOn(transport, handler, tmp.dir, 'replies.sock'));
      await manager.load({
        plugins: [
          {
            name: transport,
            transport,
            endpoint,
            retry: { maxRetries: 0 },
            // The failures asked for here must not open the breaker for the calls after them.
            circuitBreaker: { enabled: false },
          },
        ],
      });
      const seen = await outcomes(manager, transport);
      assert.equal(seen.plain, 'value');
      assert.equal(seen.async, 'value');
      for (const kind of ['throw', 'reject'] as const) {
        const no = kind === 'throw' ? 'no to N' : 'later no to N';
        assert.deepEqual(seen[kind], {
          code: ErrorCode.ApplicationError,
          retryable: false,
          message: no,
        });
      }
      // A reply JSON cannot carry fails that call, not retryable, the same whether the handler
      // returned it at once or through a promise.
      assert.deepEqual(seen.bigint, seen['bigint-async']);
      const failure = seen.bigint as { code: string; retryable: boolean; message: string };
      assert.equal(failure.retryable, false);
      assert.match(failure.message, /encode/);
      // A value JSON writes as nothing (a function) arrives as no value, as jsonCodec encodes it.
      assert.equal(await manager.execute(transport, { kind: 'function', n: 1 }), undefined);
      // The server goes on serving.
      assert.deepEqual(await manager.execute(transport, { kind: 'plain', n: 7 }), {
        n: 7,
        kind: 'plain',
      });
    } finally {
      await manager.shutdown();
      await served?.close();
    }
  });
}

/** serveStdio over two PassThrough streams, and the lines it writes. */
async function stdioPlugin(handle: (request: { n: number }) => unknown) {
  const input = new PassThrough();
  const output = new PassThrough();
  const writes: string[] = [];
  output.on('data', (chunk: Buffer) => writes.push(chunk.toString()));
  const served = await serveStdio(handle, { input, output, exitOnEnd: false });
  const replies = () =>
    writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.type !== 'handshake');
  return { input, writes, served, replies };
}

const request = (n: number) =>
  `${JSON.stringify({ type: 'execute', request_id: `r${n}`, data: { n } })}\n`;

test('serveStdio: the replies to requests that arrived together leave in one write', async () => {
  const { input, writes, served, replies } = await stdioPlugin((req) => ({ n: req.n }));
  try {
    const before = writes.length;
    input.write(request(1) + request(2) + request(3));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.length - before, 1, 'one write for three replies');
    assert.deepEqual(
      replies().map((reply) => [reply.request_id, reply.success, reply.data]),
      [
        ['r1', true, { n: 1 }],
        ['r2', true, { n: 2 }],
        ['r3', true, { n: 3 }],
      ],
    );
  } finally {
    input.end();
    await served.close();
  }
});

test('serveStdio: close() resolves with every reply written, answered at once or later', async () => {
  const { input, served, replies } = await stdioPlugin((req) =>
    req.n === 1 ? { n: 1 } : new Promise((resolve) => setTimeout(() => resolve({ n: req.n }), 20)),
  );
  input.write(request(1) + request(2));
  // In the same tick as the requests: the first is answered but its reply not yet written.
  await served.close({ timeoutMs: 5_000 });
  assert.deepEqual(
    replies()
      .map((reply) => reply.request_id)
      .sort(),
    ['r1', 'r2'],
  );
  input.end();
});

test('serveStdio: a reply the codec cannot encode is a failure of that request only', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  output.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  const refusing = {
    name: 'refusing',
    contentType: 'application/x-refusing',
    encode: (value: unknown): Uint8Array => {
      if (value === 'unencodable') throw new Error('cannot encode that');
      return Buffer.from(JSON.stringify(value));
    },
    decode: (bytes: Uint8Array): unknown => JSON.parse(Buffer.from(bytes).toString()),
  };
  const served = await serveStdio((req: string) => req, {
    input,
    output,
    exitOnEnd: false,
    codec: refusing,
  });
  try {
    const data = (value: string) => Buffer.from(JSON.stringify(value)).toString('base64');
    input.write(
      `${JSON.stringify({ type: 'execute', request_id: 'bad', data: data('unencodable') })}\n` +
        `${JSON.stringify({ type: 'execute', request_id: 'good', data: data('fine') })}\n`,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const bad = lines.find((line) => line.request_id === 'bad');
    const good = lines.find((line) => line.request_id === 'good');
    assert.deepEqual(bad, {
      type: 'execute',
      request_id: 'bad',
      success: false,
      error: 'plugin failed to reply',
    });
    assert.equal(good?.success, true);
    assert.equal(Buffer.from(good?.data as string, 'base64').toString(), '"fine"');
  } finally {
    input.end();
    await served.close();
  }
});
