import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../src/errors.js';
import { nodeScript } from '../support/scripts.js';
import { closeAll, ctx, failure, grpcPlugin } from './grpc-support.js';

const fixture = nodeScript(new URL('./grpc-fixture.ts', import.meta.url));
const children = new Set<ChildProcess>();

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await closeAll();
});

/** Starts the fixture server in a child process; resolves with its endpoint. */
async function startServer(
  port = 0,
): Promise<{ child: ChildProcess; endpoint: string; lines: AsyncIterator<string> }> {
  const child = spawn(process.execPath, ['--no-warnings', ...fixture, String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.ok(!first.done, 'the fixture server exited before listening');
  return { child, endpoint: first.value, lines };
}

test(
  'in-flight calls fail retryably when the server dies, and calls succeed after it restarts on the same port',
  { timeout: 60_000 },
  async () => {
    const first = await startServer();
    const port = Number(first.endpoint.split(':').pop());
    const plugin = grpcPlugin(first.endpoint);
    await plugin.start?.(AbortSignal.timeout(10_000));
    const { pid } = (await plugin.execute({}, ctx())) as { pid: number };
    assert.equal(pid, first.child.pid);

    // A load of slow calls in flight, then the server is killed without warning.
    const inFlight = Array.from({ length: 20 }, () =>
      failure(plugin.execute({ delayMs: 30_000 }, ctx({ deadline: Date.now() + 40_000 }))),
    );
    for (let busy = 0; busy < inFlight.length; busy++) await first.lines.next();
    first.child.kill('SIGKILL');
    for (const error of await Promise.all(inFlight)) {
      assert.equal(error.retryable, true, `${error.code}: ${error.message}`);
      assert.ok(
        [ErrorCode.PluginConnectionFailed, ErrorCode.GRPCTransportError].includes(
          error.code as never,
        ),
        error.code,
      );
    }
    // While nothing listens, calls fail fast and retryably.
    const down = await failure(plugin.execute({}, ctx()));
    assert.equal(down.code, ErrorCode.PluginConnectionFailed);
    assert.equal(down.retryable, true);

    const second = await startServer(port);
    assert.equal(second.endpoint, first.endpoint);
    // The channel reconnects on its own (reconnect backoff is capped at 5 s): retry like the
    // pipeline would, until the new server answers.
    let reply: { pid: number } | undefined;
    for (let attempt = 0; attempt < 40 && !reply; attempt++) {
      try {
        reply = (await plugin.execute({}, ctx())) as { pid: number };
      } catch (error) {
        assert.equal((error as { retryable?: boolean }).retryable, true);
        await sleep(250);
      }
    }
    assert.equal(reply?.pid, second.child.pid);
    second.child.stdin!.end();
    await once(second.child, 'exit');
  },
);
