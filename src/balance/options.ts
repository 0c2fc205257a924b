import { readDuration, DURATION_HINT } from '../config/duration.js';
import { normaliseKeys } from '../config/keys.js';
import { ConfigError, ErrorCode, type ConfigIssue } from '../errors.js';

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/**
 * Reads a strategy's `options` (a group's `options:` section): known keys in camelCase or
 * snake_case, every problem collected, then {@link OptionReader.done} throws one `ConfigError`
 * listing them all. Paths are relative to the group (`options.virtualNodes`).
 *
 * ```ts
 * const read = new OptionReader(options, ['window', 'threshold']);
 * const window = read.number('window', 5, { min: 1, integer: true });
 * read.done();
 * ```
 */
export class OptionReader {
  private readonly values: Record<string, unknown>;
  private readonly issues: ConfigIssue[] = [];

  constructor(options: Readonly<Record<string, unknown>>, known: readonly string[]) {
    const { value, problems } = normaliseKeys(options, new Set(known));
    this.values = value;
    for (const problem of problems) this.issue(problem.key, problem.message);
  }

  /** A number option; `fallback` when absent. */
  number(key: string, fallback: number, rule: NumberRule = {}): number {
    return this.optionalNumber(key, rule) ?? fallback;
  }

  /** A number option that may be left out (the feature it sets is then off). */
  optionalNumber(key: string, rule: NumberRule = {}): number | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.issue(key, `expected a number, got ${typeName(value)}`);
      return undefined;
    }
    return this.check(key, value, rule) ? value : undefined;
  }

  /** A duration option in ms: a number of ms or a Go duration string (`"5s"`). */
  duration(key: string, fallback: number, rule: NumberRule = {}): number {
    const value = this.values[key];
    if (value === undefined) return fallback;
    const reading = readDuration(value);
    if (!reading.ok) {
      this.issue(key, reading.problem || `expected ${DURATION_HINT}`);
      return fallback;
    }
    return this.check(key, reading.value, rule) ? reading.value : fallback;
  }

  /** Throws the problems found, if any. */
  done(): void {
    if (this.issues.length > 0) throw new ConfigError(this.issues);
  }

  private check(key: string, value: number, rule: NumberRule): boolean {
    if (rule.integer === true && !Number.isInteger(value)) {
      this.issue(key, 'must be a whole number');
      return false;
    }
    if (rule.min !== undefined && value < rule.min) {
      this.issue(key, `must be at least ${rule.min}`);
      return false;
    }
    if (rule.max !== undefined && value > rule.max) {
      this.issue(key, `must be at most ${rule.max}`);
      return false;
    }
    return true;
  }

  private issue(key: string, message: string): void {
    this.issues.push({ path: `options.${key}`, message, code: ErrorCode.InvalidConfig });
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
