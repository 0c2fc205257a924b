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

/** The SDK's servers with the minimal server's handler, from dist/ (plain Node). */
export const SDK_SCRIPT = 'bench/transports/sdk-server.mjs';

/** A plugin server process that has printed its endpoint. */
export interface ServerProcess {
  endpoint: string;
  /** SIGTERM, then waits for the process to exit (SIGKILL after 3 s). */
  stop(): Promise<void>;
}

/**
 * Starts `examples/plugins/serve.ts <transport> [socketPath]` (with `minimal`, the hand-written
 * {@link MINIMAL_SCRIPT} instead, or the plain-Node script it names; Unix and HTTP) and waits for its
 * `{"endpoint": ...}` line. Its stderr is the benchmark's, so a crash is visible.
 */
export async function startServer(
  transport: 'http' | 'grpc' | 'unix',
  socketPath?: string,
  minimal: boolean | string = false,
): Promise<ServerProcess> {
  const script = minimal === true ? MINIMAL_SCRIPT : minimal;
  const args = script
    ? [script, transport]
    : [...TS_NODE_ARGS, 'examples/plugins/serve.ts', transport];
  if (socketPath) args.push(socketPath);
  const child = spawn(process.execPath, args, {
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
