import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { ErrorCode, PluginError, redactSecrets } from '../../errors.js';
import type { Logger } from '../../types.js';
import { Channel } from '../ndjson/Channel.js';
import { PROTOCOL_VERSION } from '../ndjson/envelope.js';
import type { Handshake } from '../ndjson/envelope.js';
import { connectionError, excerpt } from '../ndjson/errors.js';
import { LineReader } from '../ndjson/LineReader.js';
import type { LineSink, OversizedLine } from '../ndjson/LineReader.js';
import { settlesWithin } from '../../internal/timeout.js';
import { preview } from '../../internal/untrusted.js';

/** How one exec child is started. */
export interface ExecChildOptions {
  plugin: string;
  executable: string;
  args: readonly string[];
  cwd: string | undefined;
  env: Record<string, string>;
  logger: Logger;
  maxResponseBytes: number;
}

/** How a child ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (ENOENT, EACCES…). */
  spawnError?: Error | undefined;
}

// Lines of stderr kept to explain a failed start.
const STDERR_LINES_KEPT = 5;
// A stderr line longer than this is cut (the child may print anything).
const STDERR_MAX_LINE = 64 * 1024;
// After `exit`, how long to wait for the child's pipes to close before closing our ends (a
// grandchild may still hold them).
const PIPE_CLOSE_GRACE_MS = 1_000;
const STDERR_LEVEL = /\b(error|fatal|panic|warn(ing)?|exception)\b/i;

/**
 * One run of an exec plugin's program: the process, its newline-JSON {@link Channel} on
 * stdin/stdout, its handshake, and its stderr piped to the logger. It is never restarted:
 * {@link ExecPlugin} supervises and replaces it.
 */
export class ExecChild implements LineSink {
  readonly channel: Channel;
  /** Resolves with the child's handshake line; rejects if it exits or says something else first. */
  readonly handshake: Promise<Handshake>;
  /** Resolves once the process has exited and its pipes are closed. Never rejects. */
  readonly exited: Promise<ExitInfo>;
  /** When the handshake arrived (epoch ms), 0 before. */
  readyAt = 0;
  #exit: ExitInfo | undefined;
  #stopping = false;
  #handshakeDone = false;
  #resolveHandshake!: (handshake: Handshake) => void;
  #rejectHandshake!: (error: unknown) => void;
  readonly #stderrTail: string[] = [];
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #options: ExecChildOptions;

  constructor(options: ExecChildOptions) {
    this.#options = options;
    this.handshake = new Promise<Handshake>((resolve, reject) => {
      this.#resolveHandshake = resolve;
      this.#rejectHandshake = reject;
    });
    this.handshake.catch(() => {});
    const child = spawn(options.executable, options.args, {
      shell: false,
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.#process = child;
    this.channel = new Channel({
      plugin: options.plugin,
      logger: options.logger,
      output: child.stdin,
      maxLineBytes: options.maxResponseBytes,
      source: 'stdout',
      onMessage: (message) => this.#onMessage(message),
      onStall: () => this.#retire(),
    });
    const stderr = new LineReader(this, STDERR_MAX_LINE);
    child.stdout.on('data', (chunk: Buffer) => this.channel.push(chunk));
    child.stdout.on('end', () => this.channel.end());
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stderr.on('end', () => stderr.end());
    // EPIPE when the child dies while we write, and the like: the exit handler reports it.
    child.stdin.on('error', ignore);
    child.stdout.on('error', ignore);
    child.stderr.on('error', ignore);

    let pipeTimer: NodeJS.Timeout | undefined;
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('error', (error) => {
        // The program could not be started: there will be no `exit`, maybe no `close`.
        if (child.pid === undefined) {
          this.#exit ??= { code: null, signal: null, spawnError: error };
          this.#finish(resolve);
        }
      });
      child.once('exit', (code, signal) => {
        this.#exit ??= { code, signal };
        pipeTimer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, PIPE_CLOSE_GRACE_MS);
        pipeTimer.unref();
      });
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(pipeTimer);
        this.#exit ??= { code, signal };
        this.#finish(resolve);
      });
    });
  }

  /** The process id (undefined when the program could not be started). */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** How it ended, once it has. */
  get exit(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Sends `signal` to the process if it is still running. */
  kill(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) this.#process.kill(signal);
  }

  /**
   * Stops the child politely: closes its stdin (a plugwire plugin exits when its input ends,
   * after finishing its in-flight work), then SIGTERM after `stdinGraceMs`, then SIGKILL after
   * `termGraceMs`. Resolves once the process has really exited.
   */
  async stop(stdinGraceMs: number, termGraceMs: number): Promise<ExitInfo> {
    this.#stopping = true;
    if (this.#exit === undefined) {
      this.channel.writeBatch();
      this.#process.stdin.end();
      if (!(await settlesWithin(this.exited, stdinGraceMs))) {
        this.kill('SIGTERM');
        if (!(await settlesWithin(this.exited, termGraceMs))) this.kill('SIGKILL');
      }
    }
    return this.exited;
  }

  /** "exited with code 1", "killed by SIGKILL", … with the last stderr lines when useful. */
  describeExit(withStderr = false): string {
    const exit = this.#exit;
    let text: string;
    if (exit === undefined) text = 'is running';
    else if (exit.spawnError)
      text = `could not be started: ${exit.spawnError.message} (executable ${this.#options.executable})`;
    else if (exit.signal) text = `was killed by ${exit.signal}`;
    else text = `exited with code ${exit.code}`;
    return withStderr ? text + this.stderrTail() : text;
  }

  /** `"; last stderr: a | b"` with the last lines the child printed there, or `""`. */
  stderrTail(): string {
    return this.#stderrTail.length > 0 ? `; last stderr: ${this.#stderrTail.join(' | ')}` : '';
  }

  /** @internal LineSink: one stderr line goes to the logger (a throwing logger is ignored). */
  line(text: string): void {
    const line = redactSecrets(text);
    if (this.#stderrTail.length === STDERR_LINES_KEPT) this.#stderrTail.shift();
    this.#stderrTail.push(excerpt(line, 300));
    const fields = { plugin: this.#options.plugin, pid: this.pid, stream: 'stderr' };
    try {
      if (STDERR_LEVEL.test(line)) this.#options.logger.warn(fields, line);
      else this.#options.logger.info(fields, line);
    } catch {
      // The child's output must never take the host down, not even through its logger.
    }
  }

  // A call gave up while a stdout line was half written: every reply behind it is stuck. The
  // child is killed (a plugin that stalls mid-line may ignore SIGTERM too); its calls fail with
  // a retryable PLUGIN_1205 and supervision starts a fresh one.
  #retire(): void {
    if (this.#exit !== undefined || this.#stopping) return;
    try {
      this.#options.logger.warn(
        { plugin: this.#options.plugin, pid: this.pid, bufferedBytes: this.channel.bufferedBytes },
        'killed a plugin process stuck part-way through a stdout line',
      );
    } catch {
      // Retired whatever the logger does.
    }
    this.channel.close(
      connectionError(
        this.#options.plugin,
        'plugin process retired: a stdout line stalled part-way',
      ),
    );
    this.kill('SIGKILL');
  }

  /** @internal LineSink: a huge stderr line is summarised. */
  oversized(line: OversizedLine): void {
    this.line(`${line.head.slice(0, 500)}… (${line.bytes} bytes)`);
  }

  #onMessage(message: Record<string, unknown>): void {
    if (message.type === 'handshake' && !this.#handshakeDone) {
      this.#handshakeDone = true;
      if (message.protocol !== PROTOCOL_VERSION) {
        this.#rejectHandshake(
          new PluginError(
            ErrorCode.ExecTransportError,
            `${this.#options.plugin}: the plugin speaks protocol ${preview(message.protocol, 40)}, plugwire speaks ${PROTOCOL_VERSION}; update the plugin or plugwire`,
            { plugin: this.#options.plugin, retryable: false },
          ),
        );
        return;
      }
      this.readyAt = Date.now();
      this.#resolveHandshake(message as unknown as Handshake);
      return;
    }
    this.#options.logger.warn(
      { plugin: this.#options.plugin, source: 'stdout', line: preview(message) },
      'skipped a stdout line without request_id',
    );
  }

  #finish(resolve: (info: ExitInfo) => void): void {
    const exit = this.#exit!;
    const error = this.#stopping
      ? connectionError(this.#options.plugin, 'plugin closed')
      : connectionError(this.#options.plugin, `plugin process ${this.describeExit()}`);
    this.channel.end();
    this.channel.close(error);
    if (!this.#handshakeDone) {
      this.#handshakeDone = true;
      this.#rejectHandshake(
        connectionError(
          this.#options.plugin,
          `plugin process ${this.describeExit(true)} before its handshake`,
          exit.spawnError,
        ),
      );
    }
    resolve(exit);
  }
}

function ignore(): void {}
