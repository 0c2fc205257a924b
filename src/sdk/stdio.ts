import type { Readable, Writable } from 'node:stream';
import { jsonCodec } from '../codec.js';
import { silentLogger } from '../observe/logger.js';
import { handlerTracing } from '../observe/sdkTracing.js';
import { PROTOCOL_VERSION } from '../transport/ndjson/envelope.js';
import { ServeSession } from './ServeSession.js';
import type { Handler, ServeOptions, ServedPlugin } from './types.js';
import { settlesWithin } from '../internal/timeout.js';

/** Options of {@link serveStdio}. */
export interface ServeStdioOptions extends ServeOptions {
  /** Where requests come from. Default `process.stdin`. */
  input?: Readable | undefined;
  /** Where the handshake and replies go. Default `process.stdout`. */
  output?: Writable | undefined;
  /**
   * Exit the process once the input has ended and every request has been answered, so that a
   * plugin never outlives its host. Default: true when reading `process.stdin`.
   */
  exitOnEnd?: boolean | undefined;
}

/** A plugin served over stdin/stdout. */
export interface StdioPlugin extends ServedPlugin {
  /** Resolves once the input has ended and every request has been answered. */
  readonly finished: Promise<void>;
}

/**
 * Serves `handler` as an exec plugin: the host starts this program and talks newline-JSON over
 * its stdin/stdout (docs/protocol/exec.md). Writes the handshake line first, then answers
 * requests concurrently, each reply as soon as it is ready. A `cancel` from the host aborts that
 * request's `ctx.signal`.
 *
 * stdout belongs to the protocol: never `console.log` in a plugin. Log to stderr
 * (`console.error`, or a logger writing to fd 2): the host reads stderr line by line into its own
 * logger. A stray stdout line is skipped by the host, but it is noise.
 *
 * When stdin ends (the host closed it, or died), in-flight requests are finished and the process
 * exits, so a plugin never outlives its host.
 *
 * ```ts
 * await serveStdio(async (req) => ({ echo: req }), { info: { name: 'echo', version: '1.0.0' } });
 * ```
 */
export async function serveStdio<Req = unknown, Resp = unknown>(
  handler: Handler<Req, Resp>,
  options: ServeStdioOptions = {},
): Promise<StdioPlugin> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const exitOnEnd = options.exitOnEnd ?? input === process.stdin;
  const logger = options.logger ?? silentLogger;
  const tracing = await handlerTracing(options);
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const info = options.info ?? { name: 'plugin' };
  output.write(
    `${JSON.stringify({ type: 'handshake', protocol: PROTOCOL_VERSION, name: info.name, version: info.version })}\n`,
  );
  const session = new ServeSession({
    handler: handler as Handler<unknown, unknown>,
    tracing,
    serve: options,
    codec: options.codec ?? jsonCodec,
    logger,
    input,
    output,
    onFinished: () => finish(),
  });
  // A host that went away makes stdout fail with EPIPE: nothing is left to answer.
  const broken = (error: Error): void => {
    logger.debug({ error: error.message }, 'stdio closed');
    session.abortAll(error);
    session.detach();
    finish();
  };
  output.on('error', broken);
  input.on('error', broken);

  if (exitOnEnd) {
    void finished.then(() => {
      const exit = (): never => process.exit(0);
      // Let the last replies reach the pipe before leaving.
      if (output.writableNeedDrain && !output.destroyed) output.once('drain', exit);
      else setImmediate(exit);
    });
  }

  return {
    endpoint: 'stdio',
    finished,
    async close(closeOptions?: { timeoutMs?: number }): Promise<void> {
      session.refuseNew();
      await settlesWithin(session.idle(), closeOptions?.timeoutMs ?? 5_000);
      session.abortAll(new Error('plugin closed'));
      session.detach();
    },
  };
}
