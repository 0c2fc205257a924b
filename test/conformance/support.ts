// Shared by the conformance tests: real counterparts (Go and Python plugins written from the
// wire specs, not with plugwire's SDK), started by the test, and one behaviour suite that every
// transport must pass through the public Manager API.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readDuration } from '../../src/config/duration.js';
import { ErrorCode, isPluginError } from '../../src/errors.js';
import { Manager } from '../../src/manager.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const GO_DIR = join(ROOT, 'test/conformance/go');
export const PYTHON_DIR = join(ROOT, 'test/conformance/python');
/** Debian's python, which has python3-grpcio (a pyenv `python3` on PATH may not). */
export const PYTHON = '/usr/bin/python3';
const CACHE = join(ROOT, 'node_modules/.cache/plugwire-conformance');

/** A test that would hang if the behaviour broke fails after this instead (not a speed check). */
export const HANG_GUARD = { timeout: 30_000 };

/**
 * Whether a tool the tests need is there. Missing: the suite fails with the reason (never
 * skipped); `npm test` installs the tools first (scripts/install-tools.sh).
 */
export interface Tool {
  /** Why the tool cannot be used; undefined when it can. */
  missing: string | undefined;
  /** Throws the reason (call it in before()). */
  assertPresent(): void;
}

export function tool(what: string, command: string, args: string[], install: string): Tool {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  const missing =
    run.error !== undefined || run.status !== 0
      ? `${what} is not available (\`${[command, ...args].join(' ')}\` ${
          run.error !== undefined
            ? `failed: ${run.error.message}`
            : `exited ${run.status}: ${run.stderr.trim()}`
        }); ${install}`
      : undefined;
  return {
    missing,
    assertPresent() {
      if (missing !== undefined) throw new Error(`${missing} (conformance tests never skip)`);
    },
  };
}

export const go = tool('Go', 'go', ['version'], 'install Debian golang-go (.ci/run does)');
export const python = tool(
  'Python 3',
  PYTHON,
  ['-c', 'import json, socketserver, http.server'],
  'install Debian python3 (.ci/run does)',
);
export const pythonGrpc = tool(
  'Python gRPC',
  PYTHON,
  ['-c', 'import grpc, grpc_tools.protoc'],
  'install Debian python3-grpcio and python3-grpc-tools (.ci/run does)',
);

const run = promisify(execFile);

/**
 * Builds the Go plugin (test/conformance/go, standard library only) once, cached by a hash of
 * its sources and of the Go version: the tier stays fast, and a changed source rebuilds it.
 * Nothing is downloaded: no requires in go.mod, GOPROXY=off, GOTOOLCHAIN=local.
 */
export async function buildGoPlugin(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(spawnSync('go', ['version'], { encoding: 'utf8' }).stdout);
  for (const name of readdirSync(GO_DIR).sort()) {
    if (name.endsWith('.go') || name === 'go.mod')
      hash.update(name).update(readFileSync(join(GO_DIR, name)));
  }
  const binary = join(CACHE, `go-plugin-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(CACHE, { recursive: true });
  const building = `${binary}.${process.pid}.tmp`;
  await run('go', ['build', '-o', building, '.'], {
    cwd: GO_DIR,
    env: {
      PATH: process.env.PATH,
      HOME: CACHE,
      GOCACHE: join(CACHE, 'go-build'),
      GOPATH: join(CACHE, 'gopath'),
      GOFLAGS: '-mod=mod',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
      GO111MODULE: 'on',
      CGO_ENABLED: '0',
    },
    timeout: 120_000,
  });
  renameSync(building, binary); // atomic: a parallel run never sees half a binary
  return binary;
}

/** A plugin server process started by a test; it prints "LISTENING <address>" when ready. */
export interface ServerProcess {
  address: string;
  close(): Promise<void>;
}

export async function startServer(
  command: string,
  args: string[],
  cwd: string,
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child
    .stderr!.setEncoding('utf8')
    .on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no LISTENING line within 20 s')), 20_000);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const match = /^LISTENING (.+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    return { address, close };
  } catch (error) {
    await close();
    throw new Error(`${command} ${args.join(' ')}: ${(error as Error).message}\n${stderr}`);
  }
}

/** What the conformance plugins answer (see test/conformance/go/main.go, python/common.py). */
export interface Echo {
  value: string;
  request_id: string;
  /** The deadline exactly as it arrived on the wire. */
  timeout: string;
  /** That deadline as the plugin understood it, ms. */
  timeout_ms: number;
  parse_error?: string;
  flag: boolean;
}

export interface SuiteOptions {
  /** The tool(s) the counterpart needs. */
  tools: Tool[];
  /** Starts the counterpart; returns the plugin's config and what to stop afterwards. */
  setup(): Promise<{ plugin: Record<string, unknown>; stop?: () => Promise<void> }>;
  /** How the deadline travels: `go-duration` (HTTP `timeout`), `ms` (Unix/exec `timeout_ms`), `grpc`. */
  deadline: 'go-duration' | 'ms' | 'grpc';
  /** Whether the plugin can tell that the host gave up (NDJSON cancel, gRPC cancellation). */
  seesCancel: boolean;
}

/**
 * The behaviour every counterpart must show through `manager.execute()`: round trip, request id,
 * the deadline it was given, its "no" as PLUGIN_1208, a hang as PLUGIN_1204, a caller's abort
 * reaching it (where the transport can say so), and 100 calls at once.
 */
export function conformanceSuite(name: string, options: SuiteOptions): void {
  describe(name, () => {
    let manager: Manager;
    let stop: (() => Promise<void>) | undefined;
    const target = 'counterpart';

    before(async () => {
      for (const t of options.tools) t.assertPresent();
      const setup = await options.setup();
      stop = setup.stop;
      manager = new Manager();
      // Retries off: each assertion is about one exchange with the plugin.
      await manager.load({
        plugins: [{ name: target, retry: { maxRetries: 0 }, ...setup.plugin }],
      });
      await manager.whenReady({ timeoutMs: 20_000 });
    });

    after(async () => {
      await manager?.shutdown({ timeoutMs: 2_000 });
      await stop?.();
    });

    const call = (request: unknown, extra: Record<string, unknown> = {}): Promise<Echo> =>
      manager.execute(target, request, extra) as Promise<Echo>;

    /** Asks the plugin until `op` ("seen", "cancelled") says yes for `id`. */
    async function until(op: 'seen' | 'cancelled', id: string): Promise<void> {
      const giveUp = Date.now() + 10_000;
      for (;;) {
        if ((await call({ op, id })).flag) return;
        if (Date.now() > giveUp) assert.fail(`the plugin never reported ${op} for ${id}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    test('a call round-trips with its request id', HANG_GUARD, async () => {
      const requestId = `rt-${randomUUID()}`;
      const reply = await call({ op: 'echo', value: 'héllo ✓' }, { requestId });
      assert.equal(reply.value, 'héllo ✓');
      assert.equal(reply.request_id, requestId);
    });

    test('the plugin receives the deadline, no later than the time left', HANG_GUARD, async () => {
      const timeoutMs = 5_000;
      const reply = await call({ op: 'echo' }, { timeoutMs });
      assert.equal(reply.parse_error, undefined, `the plugin could not read ${reply.timeout}`);
      assert.ok(
        reply.timeout_ms > 0 && reply.timeout_ms <= timeoutMs,
        `deadline seen by the plugin: ${reply.timeout} (${reply.timeout_ms} ms), call allows ${timeoutMs} ms`,
      );
      if (options.deadline === 'go-duration') {
        // go-plugins' `Timeout string`: what Go's time.ParseDuration accepts.
        assert.match(reply.timeout, /^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/);
        const ours = readDuration(reply.timeout);
        assert.ok(
          ours.ok && ours.value === reply.timeout_ms,
          `${reply.timeout} read as ${reply.timeout_ms} ms`,
        );
      } else if (options.deadline === 'ms') {
        // go-plugins' `Timeout int64 json:"timeout_ms"`.
        assert.ok(
          Number.isInteger(reply.timeout_ms),
          `timeout_ms ${reply.timeout} is not an integer`,
        );
      }
    });

    test('the plugin\'s own "no" is PLUGIN_1208, returned as is', HANG_GUARD, async () => {
      const error = await call({ op: 'fail' }).then(
        () => assert.fail('expected the call to fail'),
        (thrown: unknown) => thrown,
      );
      assert.ok(isPluginError(error), String(error));
      assert.equal(error.code, ErrorCode.ApplicationError);
      assert.match(error.message, /card declined/);
      assert.equal(error.retryable, false);
    });

    test('a call the plugin does not answer in time is PLUGIN_1204', HANG_GUARD, async () => {
      const requestId = `late-${randomUUID()}`;
      const error = await call({ op: 'hang' }, { requestId, timeoutMs: 300 }).then(
        () => assert.fail('expected the call to time out'),
        (thrown: unknown) => thrown,
      );
      assert.ok(isPluginError(error), String(error));
      assert.equal(error.code, ErrorCode.PluginTimeout);
      // The deadline passed with the request in flight: the plugin is told to stop.
      if (options.seesCancel) await until('cancelled', requestId);
    });

    if (options.seesCancel) {
      test(
        "a caller's abort reaches the plugin as a cancel for that request",
        HANG_GUARD,
        async () => {
          const requestId = `abort-${randomUUID()}`;
          const controller = new AbortController();
          const pending = call({ op: 'hang' }, { requestId, signal: controller.signal });
          await until('seen', requestId);
          controller.abort(new Error('the caller gave up'));
          await assert.rejects(pending, { code: ErrorCode.CallAborted });
          await until('cancelled', requestId);
        },
      );
    }

    test('100 concurrent calls each get their own reply', HANG_GUARD, async () => {
      const ids = Array.from({ length: 100 }, (_, i) => `c${i}-${randomUUID()}`);
      const replies = await Promise.all(
        ids.map((requestId, i) => call({ op: 'echo', value: `v${i}` }, { requestId })),
      );
      replies.forEach((reply, i) => {
        assert.equal(reply.value, `v${i}`);
        assert.equal(reply.request_id, ids[i]);
      });
    });
  });
}
