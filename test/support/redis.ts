import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './tmp.js';

/** Debian's redis-server (`apt-get install redis-server`; .ci/run installs it when absent). */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** A real redis-server on a Unix socket in a temp dir, for the cluster tests. */
export interface RedisServer {
  /** `unix:///…/redis.sock`, as the `cluster.redis.url` config takes it. */
  readonly url: string;
  readonly socket: string;
  /** Kills the server at once (SIGKILL), as a crash would; the socket path stays reserved. */
  kill(): Promise<void>;
  /** Starts it again on the same socket (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** Stops it and removes the temp dir. */
  stop(): Promise<void>;
}

/** Starts redis-server; resolves once it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const tmp = tempDir('plugwire-redis-');
  const socket = join(tmp.dir, 'redis.sock');
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      REDIS_SERVER,
      [
        '--port',
        '0',
        '--unixsocket',
        socket,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        tmp.dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const started = performance.now();
    while (!(await answersPing(socket))) {
      if (proc.exitCode !== null || performance.now() - started > 10_000) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not start (${REDIS_SERVER}): ${stderr.trim()}`);
      }
      await sleep(20);
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    url: `unix://${socket}`,
    socket,
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGKILL');
      await launch();
    },
    stop: async () => {
      await halt('SIGTERM');
      tmp.remove();
    },
  };
}

/** Whether a redis-server answers PING on `socket`. */
function answersPing(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const conn = connect(socket);
    const done = (ok: boolean): void => {
      conn.destroy();
      resolve(ok);
    };
    conn.setTimeout(1_000, () => done(false));
    conn.on('error', () => done(false));
    conn.on('connect', () => conn.write('PING\r\n'));
    conn.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
