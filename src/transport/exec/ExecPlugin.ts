import type { PluginConfig } from '../../config/types.js';
import { isPluginError, type PluginError } from '../../errors.js';
import type {
  Cancellation,
  ExecutionContext,
  FactoryDeps,
  HealthStatus,
  Logger,
  Plugin,
  PluginInfo,
} from '../../types.js';
import { ExecuteReplies, executeCall, healthCall, infoCall } from '../ndjson/calls.js';
import type { Handshake } from '../ndjson/envelope.js';
import { closedError, connectionError, notSent } from '../ndjson/errors.js';
import { untilAborted } from '../ndjson/untilAborted.js';
import { childEnv } from './env.js';
import { ExecChild } from './ExecChild.js';
import type { ExitInfo } from './ExecChild.js';
import { DEFAULT_RESTART_POLICY, restartDelay } from './restartDelay.js';
import type { RestartPolicy } from './restartDelay.js';
import { errorMessage } from '../../internal/errorMessage.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Timings of an {@link ExecPlugin}; the defaults suit production, tests shorten them. */
export interface ExecTimings extends RestartPolicy {
  /** After closing the child's stdin, how long to wait before SIGTERM. */
  stdinGraceMs: number;
  /** After SIGTERM, how long to wait before SIGKILL. */
  termGraceMs: number;
}

export const DEFAULT_EXEC_TIMINGS: ExecTimings = {
  ...DEFAULT_RESTART_POLICY,
  stdinGraceMs: 1_000,
  termGraceMs: 2_000,
};

/**
 * A plugin run as one long-lived child process that speaks newline-JSON on stdin/stdout
 * (docs/protocol/exec.md), with many calls in flight.
 *
 * The child is supervised: when it exits, calls in flight fail with a retryable `PLUGIN_1205`,
 * `health()` reports `offline` with the exit code or signal, and it is started again with
 * exponential backoff (reset once a child stays up a while) until `close()`. `close()` closes the
 * child's stdin, then sends SIGTERM, then SIGKILL, and resolves once the process is gone.
 *
 * The child gets `PATH` and the config's `env` entries only, never the host's whole environment.
 */
export class ExecPlugin<Req = unknown, Resp = unknown> implements Plugin<Req, Resp> {
  readonly name: string;
  readonly #config: PluginConfig;
  readonly #replies: ExecuteReplies;
  readonly #logger: Logger;
  readonly #timings: ExecTimings;
  /** Checks the program before each spawn (discovery's checksum check), when given. */
  readonly #verify: FactoryDeps['verify'];
  /** The running, handshaken child. */
  #child: ExecChild | undefined;
  /** The child being started, until its handshake. */
  #spawning: ExecChild | undefined;
  #starting: Promise<ExecChild> | undefined;
  #handshake: Handshake | undefined;
  /** Set once a child has run: from then on, exits are followed by restarts. */
  #supervising = false;
  #lastExit: { description: string; info: ExitInfo; at: number } | undefined;
  #lastStartError: unknown;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartAt = 0;
  #closing: Promise<void> | undefined;

  constructor(config: PluginConfig, deps: FactoryDeps, timings: Partial<ExecTimings> = {}) {
    this.name = config.name;
    this.#config = config;
    this.#replies = new ExecuteReplies(config.name, deps.codec);
    this.#logger = deps.logger;
    this.#verify = deps.verify;
    this.#timings = { ...DEFAULT_EXEC_TIMINGS, ...timings };
    this.onRestartTimer = this.onRestartTimer.bind(this);
  }

  /** The pid of the running (or starting) child; undefined while there is none. */
  get pid(): number | undefined {
    return (this.#child ?? this.#spawning)?.pid;
  }

  /** Whether a handshaken child is running. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exit === undefined;
  }

  /**
   * Spawns the child and waits for its handshake, within `startup.timeout` and `signal`. On
   * failure the child is killed and the promise rejects with a retryable `PLUGIN_1205` (or the
   * abort error). A pending restart is brought forward.
   */
  async start(signal?: AbortSignal): Promise<void> {
    await untilAborted(this.#ensureStarted(signal), signal, this.name);
  }

  execute(request: Req, ctx: ExecutionContext): Promise<Resp> {
    // Closing: the child is being stopped and takes no new calls.
    if (this.#closing) return Promise.reject(closedError(this.name));
    const child = this.#child;
    // A child that has exited but whose pipes are still closing takes no new calls.
    if (child === undefined || child.exit !== undefined)
      return this.#executeOnceStarted(request, ctx);
    return executeCall(child.channel, this.#replies, request, ctx) as Promise<Resp>;
  }

  async #executeOnceStarted(request: Req, ctx: ExecutionContext): Promise<Resp> {
    let child: ExecChild;
    try {
      child = await this.#childForCall(ctx.cancellation, ctx.deadline);
    } catch (error) {
      // No child took the request: whatever went wrong (down, restarting, failed handshake),
      // it was not sent. An abort stays an abort.
      throw isPluginError(error) && error.phase === 'sent' ? notSent(error) : error;
    }
    return (await executeCall(child.channel, this.#replies, request, ctx)) as Resp;
  }

  /** `offline` (with why) while no child is running, else what the child answers. */
  async health(signal: AbortSignal): Promise<HealthStatus> {
    const child = this.#child;
    if (child !== undefined && child.exit === undefined) return healthCall(child.channel, signal);
    const now = Date.now();
    const metadata: Record<string, string> = {};
    const exit = child?.exit ?? this.#lastExit?.info;
    if (exit) {
      if (exit.code !== null) metadata.exitCode = String(exit.code);
      if (exit.signal !== null) metadata.signal = exit.signal;
    }
    return {
      status: 'offline',
      message: this.#downReason(),
      lastCheck: now,
      responseTimeMs: 0,
      metadata,
    };
  }

  /** Asks the running child; while none runs, what its last handshake said. */
  async info(signal?: AbortSignal): Promise<PluginInfo> {
    const child = this.#child;
    if (child !== undefined && child.exit === undefined) {
      return infoCall(
        child.channel,
        this.name,
        signal ?? AbortSignal.timeout(this.#config.connection.requestTimeout),
      );
    }
    if (this.#handshake) {
      return {
        name: this.#handshake.name ?? this.name,
        ...(this.#handshake.version ? { version: this.#handshake.version } : {}),
      };
    }
    throw this.#downError();
  }

  /**
   * Stops supervising and stops the child (stdin closed, then SIGTERM, then SIGKILL). Resolves once
   * the process has exited. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** @internal the restart timer fired. */
  onRestartTimer(): void {
    this.#restartTimer = undefined;
    if (this.#closing) return;
    this.#ensureStarted(undefined).then(
      () => this.#logger.info({ plugin: this.name, pid: this.pid }, 'plugin process restarted'),
      () => {},
    );
  }

  async #close(): Promise<void> {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const children = [this.#child, this.#spawning].filter((c) => c !== undefined);
    const { stdinGraceMs, termGraceMs } = this.#timings;
    await Promise.all(children.map((child) => child.stop(stdinGraceMs, termGraceMs)));
  }

  #ensureStarted(signal: AbortSignal | undefined): Promise<ExecChild> {
    if (this.#closing) return Promise.reject(closedError(this.name));
    if (this.#child !== undefined) return Promise.resolve(this.#child);
    if (this.#starting === undefined) {
      clearTimeout(this.#restartTimer);
      this.#restartTimer = undefined;
      this.#starting = this.#launch(signal).finally(() => {
        this.#starting = undefined;
      });
    }
    return this.#starting;
  }

  async #childForCall(signal: Cancellation, deadline: number): Promise<ExecChild> {
    // Never started: start on first use. Starting (or restarting): wait for it, within the call.
    if (this.#starting !== undefined || (!this.#supervising && !this.#closing)) {
      return untilAborted(this.#ensureStarted(undefined), signal, this.name);
    }
    // A restart is scheduled (the child exited a moment ago): when it comes before the call's
    // deadline, the call waits for it instead of failing; the backoff itself is kept.
    if (this.#restartTimer !== undefined && !this.#closing && this.#restartAt < deadline) {
      await untilAborted(restartSoon(this.#restartAt), signal, this.name);
      const child = this.#child;
      if (child !== undefined && child.exit === undefined) return child;
      if (this.#starting !== undefined) return untilAborted(this.#starting, signal, this.name);
    }
    throw this.#downError();
  }

  async #launch(signal: AbortSignal | undefined): Promise<ExecChild> {
    const config = this.#config;
    if (this.#verify !== undefined) {
      try {
        await untilAborted(this.#verify(config), signal, this.name);
      } catch (error) {
        // Refused before any process existed: a start error like any other (restarts included).
        this.#lastStartError = error;
        if (this.#supervising) this.#scheduleRestart();
        throw error;
      }
      if (this.#closing) throw closedError(this.name);
    }
    const child = new ExecChild({
      plugin: this.name,
      executable: config.executable ?? '',
      args: config.args,
      cwd: config.workDir,
      env: childEnv(config.env),
      logger: this.#logger,
      maxResponseBytes: config.connection.maxResponseBytes,
    });
    this.#spawning = child;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              connectionError(
                this.name,
                `no handshake within startup.timeout (${config.startup.timeout} ms); the plugin must print {"type":"handshake","protocol":1} on stdout first${child.stderrTail()}`,
              ),
            ),
          config.startup.timeout,
        );
      });
      this.#handshake = await untilAborted(
        Promise.race([child.handshake, timeout]),
        signal,
        this.name,
      );
    } catch (error) {
      this.#lastStartError = error;
      child.kill('SIGKILL');
      await child.exited;
      if (this.#spawning === child) this.#spawning = undefined;
      this.#logger.warn(
        { plugin: this.name, error: isPluginError(error) ? error.message : String(error) },
        'plugin process failed to start',
      );
      if (this.#supervising) this.#scheduleRestart();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.#spawning === child) this.#spawning = undefined;
    if (this.#closing) {
      await child.stop(this.#timings.stdinGraceMs, this.#timings.termGraceMs);
      throw closedError(this.name);
    }
    this.#adopt(child);
    return child;
  }

  #adopt(child: ExecChild): void {
    this.#child = child;
    this.#supervising = true;
    this.#lastStartError = undefined;
    void child.exited.then((info) => this.#onExit(child, info));
  }

  #onExit(child: ExecChild, info: ExitInfo): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#lastExit = { description: child.describeExit(true), info, at: Date.now() };
    if (this.#closing) return;
    this.#logger.warn(
      { plugin: this.name, pid: child.pid, code: info.code, signal: info.signal },
      `plugin process ${child.describeExit()}`,
    );
    if (Date.now() - child.readyAt >= this.#timings.stableAfterMs) this.#restarts = 0;
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.#closing || this.#restartTimer !== undefined) return;
    const delay = restartDelay(this.#restarts++, this.#timings);
    this.#restartAt = Date.now() + delay;
    this.#restartTimer = setTimeout(this.onRestartTimer, delay);
    this.#restartTimer.unref();
  }

  /** Why no child can take a call now: closed (`PLUGIN_1215`), else down (`PLUGIN_1205`). */
  #downError(): PluginError {
    return this.#closing ? closedError(this.name) : connectionError(this.name, this.#downReason());
  }

  #downReason(): string {
    if (this.#closing) return 'plugin is closed';
    if (this.#starting !== undefined) return 'plugin process is starting';
    const exiting = this.#child?.exit !== undefined ? this.#child : undefined;
    if (exiting) return `plugin process ${exiting.describeExit()}`;
    const parts: string[] = [];
    if (this.#lastExit) parts.push(`plugin process ${this.#lastExit.description}`);
    else if (!this.#supervising) parts.push('plugin process not started');
    if (this.#lastStartError !== undefined) {
      const reason = this.#lastStartError;
      parts.push(`last start failed: ${errorMessage(reason)}`);
    }
    if (this.#restartTimer !== undefined)
      parts.push(`restarting in ${Math.max(0, this.#restartAt - Date.now())} ms`);
    return parts.join('; ');
  }
}

/** Resolves just after `at` (epoch ms), when a scheduled restart has begun. */
function restartSoon(at: number): Promise<void> {
  return sleep(Math.max(0, at - Date.now()) + 1);
}
