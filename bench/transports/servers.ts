/** The example plugin servers of the transport benchmark, each in its own process. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: the examples are spawned with paths relative to it. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How a Node child runs a TypeScript file of this repository. */
export const TS_NODE_ARGS = ['--loader', 'ts-node/esm', '--no-warnings'];
export const TS_NODE_ENV = 'TS_NODE_TRANSPILE_ONLY=true';

/** The minimal hand-written newline-JSON server (plain Node, no plugwire): `unix <path>` or `stdio`. */
export const MINIMAL_SCRIPT = 'bench/transports/minimal.mjs';

/** The minimal hand-written gRPC server (grpc-js and the transport's serializers, no SDK). */
export const MINIMAL_GRPC_SCRIPT = 'bench/transports/minimal-grpc.ts';

/** The SDK's servers with the minimal server's handler, from dist/ (plain Node). */
export const SDK_SCRIPT = 'bench/transports/sdk-server.mjs';

/**
 * Node arguments that make a server process write its CPU profiles into `<dir>/<name>/`, where
 * `dir` is what `BENCH_SERVER_PROFILE` names (none when it is unset): profile the plugin side of
 * a benchmark with `BENCH_SERVER_PROFILE=/tmp/prof`, then summarise the main thread's profile
 * (`CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile`; a ts-node server also writes one for its loader
 * thread) with profile-summary.ts.
 */
export function serverProfileArgs(name: string): string[] {
  const dir = process.env.BENCH_SERVER_PROFILE;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}/${name}`] : [];
}

/** A plugin server process that has printed its endpoint. */
export interface ServerProcess {
  endpoint: string;
  /** SIGTERM, then waits for the process to exit (SIGKILL after 3 s). */
  stop(): Promise<void>;
}

/**
 * Starts `examples/plugins/serve.ts <transport> [socketPath]` (with `minimal`, the hand-written
 * {@link MINIMAL_SCRIPT} instead, or the script it names: plain Node, or TypeScript through ts-node) and waits for its
 * `{"endpoint": ...}` line. Its stderr is the benchmark's, so a crash is visible.
 */
export async function startServer(
  transport: 'http' | 'grpc' | 'unix',
  socketPath?: string,
  minimal: boolean | string = false,
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const script = minimal === true ? MINIMAL_SCRIPT : minimal;
  // A TypeScript script runs under ts-node, a plain .mjs one does not.
  const args = !script
    ? [...TS_NODE_ARGS, 'examples/plugins/serve.ts', transport]
    : script.endsWith('.ts')
      ? [...TS_NODE_ARGS, script, transport]
      : [script, transport];
  if (socketPath) args.push(socketPath);
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      lines.once('line', (line) => {
        try {
          resolve((JSON.parse(line) as { endpoint: string }).endpoint);
        } catch (error) {
          reject(
            new Error(`${transport} server printed ${JSON.stringify(line)}`, { cause: error }),
          );
        }
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`${transport} server exited (${code ?? signal}) before listening`)),
      );
    });
    return { endpoint, stop: () => stopProcess(child, exited) };
  } catch (error) {
    await stopProcess(child, exited);
    throw error;
  } finally {
    lines.close();
  }
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
