import { ErrorCode, PluginError } from '../errors.js';

/** The outcome of reading a duration or a size: the value, or why it cannot be read. */
export type Reading = { ok: true; value: number } | { ok: false; problem: string };

// Go's time.ParseDuration units, in milliseconds. `ms` must be tried before `m`.
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN, as Go accepts
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

export const DURATION_HINT =
  'a number of milliseconds or a Go duration string such as "250ms", "1.5s", "1m30s" or "2h"';

/**
 * Reads a duration: a number is milliseconds, a string uses Go's `time.ParseDuration` syntax
 * (`"300ms"`, `"1.5s"`, `"1m30s"`, `"2h45m"`, `"100us"`, `"0"`). Negative values are read as
 * such; callers decide whether they are allowed.
 * @internal
 */
export function readDuration(value: unknown): Reading {
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? { ok: true, value }
      : { ok: false, problem: `expected ${DURATION_HINT}` };
  }
  if (typeof value !== 'string') return { ok: false, problem: `expected ${DURATION_HINT}` };
  const text = value.trim();
  if (text === '0' || text === '+0' || text === '-0') return { ok: true, value: 0 };
  const match = DURATION.exec(text);
  if (!match) {
    const problem = /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)
      ? `a duration string needs a unit (ns, us, ms, s, m, h), e.g. "${text}ms"; a bare number of milliseconds must not be quoted`
      : `expected ${DURATION_HINT}`;
    return { ok: false, problem };
  }
  let total = 0;
  for (const [, amount, unit] of match[2]!.matchAll(DURATION_PART)) {
    total += Number(amount) * DURATION_UNITS[unit!]!;
  }
  // Round to whole nanoseconds so that "0.1h" is 360000, not 360000.00000000006.
  total = Math.round(total * 1e6) / 1e6;
  return { ok: true, value: match[1] === '-' ? -total : total };
}

/**
 * Parses a duration to milliseconds.
 *
 * A number is taken as milliseconds. A string uses Go's duration syntax: a sequence of decimal
 * numbers with a unit each, `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`: `"250ms"`, `"1.5s"`,
 * `"1m30s"`, `"2h"`, `"100us"` (0.1 ms). `"0"` needs no unit.
 *
 * @throws {PluginError} `PLUGIN_1000` when the value is not a duration.
 * @example parseDuration('1m30s') // 90000
 */
export function parseDuration(value: number | string): number {
  const reading = readDuration(value);
  if (!reading.ok) {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      `Invalid duration ${JSON.stringify(value)}: ${reading.problem}`,
    );
  }
  return reading.value;
}

const SIZE = /^(\d+\.?\d*|\.\d+)\s*([kmgt]i?b|b)?$/i;
const SIZE_FACTORS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

export const SIZE_HINT = 'a number of bytes or a size such as "512KiB", "8MiB", "10MB" or "1GB"';

/**
 * Reads a size in bytes: a number, or a string with an optional unit: `B`, decimal `KB` `MB`
 * `GB` `TB` (powers of 1000) or binary `KiB` `MiB` `GiB` `TiB` (powers of 1024), any case.
 * @internal
 */
export function readSize(value: unknown): Reading {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0
      ? { ok: true, value }
      : { ok: false, problem: 'a size must be a whole, non-negative number of bytes' };
  }
  if (typeof value !== 'string') return { ok: false, problem: `expected ${SIZE_HINT}` };
  const match = SIZE.exec(value.trim());
  if (!match) return { ok: false, problem: `expected ${SIZE_HINT}` };
  const bytes = Math.floor(Number(match[1]) * SIZE_FACTORS[(match[2] ?? 'b').toLowerCase()]!);
  return Number.isSafeInteger(bytes)
    ? { ok: true, value: bytes }
    : { ok: false, problem: 'the size is too large' };
}

/**
 * Parses a size to bytes: a number of bytes, or a string such as `"8MiB"` (8 × 1024²),
 * `"512KiB"`, `"10MB"` (10 × 1000²) or `"1GB"`. Fractions are rounded down to whole bytes.
 *
 * @throws {PluginError} `PLUGIN_1000` when the value is not a size.
 * @example parseSize('8MiB') // 8388608
 */
export function parseSize(value: number | string): number {
  const reading = readSize(value);
  if (!reading.ok) {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      `Invalid size ${JSON.stringify(value)}: ${reading.problem}`,
    );
  }
  return reading.value;
}
