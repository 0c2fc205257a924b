import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCode, isConfigError, redactSecrets, type ConfigIssue } from '../errors.js';
import { loadConfigFile } from '../builtinConfig.js';
import type { ManagerConfig } from '../config/types.js';
import { errorMessage } from '../internal/errorMessage.js';

/** Exit statuses of every command. */
export const EXIT_OK = 0;
/** The input is invalid (validate, diff) or the server could not be read (status). */
export const EXIT_INVALID = 1;
/** The command line itself is wrong. */
export const EXIT_USAGE = 2;

/** Where a command writes; tests pass their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** A wrong command line: printed with the command's usage, exit status 2. */
export class UsageError extends Error {}

/** `parseArgs` with this CLI's conventions: strict, positionals allowed, errors as UsageError. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

/** A config file, validated; or every problem found in it (secrets redacted). */
export type Loaded =
  { ok: true; config: ManagerConfig } | { ok: false; problems: readonly ConfigIssue[] };

export async function load(file: string): Promise<Loaded> {
  try {
    return { ok: true, config: await loadConfigFile(file) };
  } catch (error) {
    if (isConfigError(error)) return { ok: false, problems: error.issues };
    const message = redactSecrets(errorMessage(error));
    return { ok: false, problems: [{ path: '', message, code: ErrorCode.InvalidConfig }] };
  }
}

/** `path: message [CODE]` lines, as `ConfigError` prints them. */
export function problemLines(problems: readonly ConfigIssue[]): string[] {
  return problems.map((p) => `  ${p.path || '(root)'}: ${p.message} [${p.code}]`);
}

/** A plain text table: columns padded to their widest cell. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
