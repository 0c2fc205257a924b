// Every SDK server with 200 requests in flight at once (held by the handler until all have
// arrived): no MaxListenersExceededWarning or any other warning, no timer per request, each
// handler's signal readable and live, and every reply correct.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Manager } from '../../src/index.js';
import { serveStdio } from '../../src/sdk/index.js';
import type { HandlerContext, ServedPlugin } from '../../src/sdk/index.js';
import { NETWORK_TRANSPORTS, serveName, serveOn } from '../support/sdkServers.js';
import { tempDir } from '../support/tmp.js';

const IN_FLIGHT = 200;
const tmp = tempDir('plugwire-in-flight-');
after(() => tmp.remove());

/** A handler that holds every request until IN_FLIGHT of them are in flight at once. */
function barrier() {
  let arrived = 0;
  let open!: () => void;
  const allIn = new Promise<void>((resolve) => (open = resolve));
  const seen = { timersWhileHeld: -1, signalsAborted: 0 };
  const handler = async (request: { n: number }, ctx: HandlerContext) => {
    if (++arrived === IN_FLIGHT) {
      seen.timersWhileHeld = timers();
      open();
    }
    await allIn;
    if (ctx.signal.aborted) seen.signalsAborted++;
    return { n: request.n, id: ctx.requestId };
  };
  return { handler, seen };
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

function watchWarnings(): { warnings: Error[]; stop(): void } {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  return { warnings, stop: () => process.off('warning', onWarning) };
}

async function callAll(plugin: { name: string } & Record<string, unknown>): Promise<void> {
  const manager = new Manager<{ n: number }, { n: number; id: string }>();
  try {
    await manager.load({ plugins: [plugin] });
    const replies = await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, n) => manager.execute(plugin.name, { n })),
    );
    assert.deepEqual(
      replies.map((reply) => reply.n),
      Array.from({ length: IN_FLIGHT }, (_, n) => n),
    );
    assert.equal(new Set(replies.map((reply) => reply.id)).size, IN_FLIGHT);
  } finally {
    await manager.shutdown();
  }
}

// HTTP carries one request per connection; the others many on each of a few.
const connection = (transport: string) => ({
  maxConnections: transport === 'http' ? IN_FLIGHT : 8,
  maxPending: IN_FLIGHT,
  requestTimeout: '10s',
});

for (const transport of NETWORK_TRANSPORTS) {
  test(`${serveName(transport)}: ${IN_FLIGHT} requests in flight, no warning, no timer per request`, async () => {
    const { handler, seen } = barrier();
    const before = timers();
    const watch = watchWarnings();
    let served: ServedPlugin | undefined;
    try {
      let endpoint: string;
      ({ served, endpoint } = await serveOn(transport, handler, tmp.dir, 'many.sock'));
      await callAll({
        name: transport,
        transport,
        endpoint,
        connection: connection(transport),
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        watch.warnings.map((w) => `${w.name}: ${w.message}`),
        [],
        'no warning at any concurrency',
      );
      assert.equal(seen.signalsAborted, 0);
      // grpc-js arms a deadline timer per call of its own; the SDK adds none.
      if (transport !== 'grpc') {
        assert.ok(
          seen.timersWhileHeld - before < 20,
          `${seen.timersWhileHeld - before} timers with ${IN_FLIGHT} requests in flight`,
        );
      }
    } finally {
      watch.stop();
      await served?.close();
    }
  });
}

test(`serveStdio: ${IN_FLIGHT} requests in flight on one stream, no warning, no timer per request`, async () => {
  const { handler, seen } = barrier();
  const input = new PassThrough();
  const output = new PassThrough();
  const before = timers();
  const watch = watchWarnings();
  const served = await serveStdio(handler, { input, output, exitOnEnd: false });
  try {
    const lines: Array<Record<string, unknown>> = [];
    let text = '';
    const done = new Promise<void>((resolve) => {
      output.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const parts = text.split('\n');
        text = parts.pop()!;
        for (const line of parts) lines.push(JSON.parse(line) as Record<string, unknown>);
        if (lines.length === IN_FLIGHT + 1) resolve(); // the handshake, then every reply
      });
    });
    for (let n = 0; n < IN_FLIGHT; n++) {
      input.write(
        `${JSON.stringify({ type: 'execute', request_id: `r${n}`, data: { n }, timeout_ms: 30_000 - n })}\n`,
      );
    }
    await done;
    const replies = lines.slice(1);
    assert.ok(replies.every((reply) => reply.success === true));
    assert.deepEqual(
      replies.map((reply) => reply.request_id).sort(),
      Array.from({ length: IN_FLIGHT }, (_, n) => `r${n}`).sort(),
    );
    assert.deepEqual(watch.warnings, []);
    assert.equal(seen.signalsAborted, 0);
    assert.ok(
      seen.timersWhileHeld - before < 5,
      `${seen.timersWhileHeld - before} timers with ${IN_FLIGHT} requests in flight`,
    );
  } finally {
    watch.stop();
    input.end();
    await served.close();
  }
});
