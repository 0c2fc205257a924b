import type { LogLevel } from '../config/types.js';
import type { Logger } from '../types.js';

const noop = (): void => {};

/** The default logger: says nothing. `console` and pino loggers can be passed as they are. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * The host's logger behind go-plugins' `log_level`: messages below the level are dropped here,
 * before the host logger sees them. Without a level every message is passed on (the host
 * logger's own level then decides). Calls keep the host logger as `this` (pino needs it).
 */
export class LevelFilter implements Logger {
  private min = 0;

  constructor(private readonly target: Logger) {}

  /** The lowest level passed on; `undefined` passes everything. */
  setLevel(level: LogLevel | undefined): void {
    this.min = level === undefined ? 0 : RANK[level];
  }

  debug(fields: Record<string, unknown>, message?: string): void {
    if (this.min <= 0) this.pass('debug', fields, message);
  }

  info(fields: Record<string, unknown>, message?: string): void {
    if (this.min <= 1) this.pass('info', fields, message);
  }

  warn(fields: Record<string, unknown>, message?: string): void {
    if (this.min <= 2) this.pass('warn', fields, message);
  }

  error(fields: Record<string, unknown>, message?: string): void {
    this.pass('error', fields, message);
  }

  // A message the caller left out stays out (console would print "undefined").
  private pass(
    level: LogLevel,
    fields: Record<string, unknown>,
    message: string | undefined,
  ): void {
    if (message === undefined) this.target[level](fields);
    else this.target[level](fields, message);
  }
}
