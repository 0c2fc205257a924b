import { z } from 'zod';
import { ErrorCode, registerSecret } from '../errors.js';
import { readDuration, readSize } from './duration.js';
import { hasReference, interpolate, type Env } from './env.js';
import { isSecretName } from './secrets.js';
import type { Problem } from './issues.js';
import { normaliseKeys, type KeyProblem } from './keys.js';

/**
 * The building blocks of the config schema. Every leaf interpolates `${ENV}` references before
 * it validates, so the schema reads like the model while env, secrets and key spelling are
 * handled in one place. Built per parse, because the environment is per parse.
 */

/** How a leaf reads a string once its `${ENV}` references are replaced. */
type LeafKind = 'text' | 'secret' | 'number' | 'boolean';

const FAILED = Symbol('failed');
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

// An issue raised while reading a value (env, duration, size): never one of go-plugins' field
// codes, whatever field it is found in.
function problemAt(path: PropertyKey[], message: string) {
  return { code: 'custom' as const, path, message, params: { code: ErrorCode.InvalidConfig } };
}

/** A plain object (not null, not a list). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field builders for one parse, reading `${ENV}` references from `env`. */
export function fieldKit(env: Env) {
  // Replaces references in a string leaf. A string that came (even partly) from the
  // environment may be read as a number or boolean; a literal "3" stays a string, so that a
  // quoting mistake in a file is reported rather than guessed at.
  function resolve(value: unknown, ctx: z.core.$RefinementCtx, kind: LeafKind): unknown {
    if (typeof value !== 'string') return value;
    let text = value;
    if (hasReference(value)) {
      const result = interpolate(value, env);
      if (!result.ok) {
        ctx.addIssue(problemAt([], result.problem));
        return FAILED;
      }
      // A value from the environment is a secret only in a secret field (see secrets.ts).
      text = result.value;
      if (kind === 'number' && NUMBER.test(text.trim())) return Number(text);
      if (kind === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
    }
    if (kind === 'secret') registerSecret(text);
    return text;
  }

  // Free-form values (`options`): every string at any depth is interpolated, nothing else.
  // Strings under a secret-looking key (`clientSecret`, `api_key`) are secrets.
  function resolveDeep(value: unknown, ctx: z.core.$RefinementCtx, path: PropertyKey[]): unknown {
    if (typeof value === 'string') {
      let text = value;
      if (hasReference(value)) {
        const result = interpolate(value, env);
        if (!result.ok) {
          ctx.addIssue(problemAt(path, result.problem));
          return value;
        }
        text = result.value;
      }
      const key = path.findLast((segment) => typeof segment === 'string');
      if (key !== undefined && isSecretName(key)) registerSecret(text);
      return text;
    }
    if (Array.isArray(value)) return value.map((item, i) => resolveDeep(item, ctx, [...path, i]));
    if (isRecord(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        // defineProperty, so that a "__proto__" key (JSON.parse makes one) stays a plain key.
        Object.defineProperty(out, key, {
          value: resolveDeep(item, ctx, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  }

  /** A string leaf (`schema` adds its own rules: non-empty, a pattern…). */
  function text<T extends z.ZodType>(schema: T) {
    return z.preprocess((value, ctx) => resolve(value, ctx, 'text'), schema);
  }

  /** A secret string: registered for redaction, never quoted in a message. */
  function secret() {
    return z.preprocess(
      (value, ctx) => resolve(value, ctx, 'secret'),
      z.string().min(1, { error: 'must not be empty' }),
    );
  }

  /** A number leaf (`z.number()` or `z.int()` with its bounds). */
  function number<T extends z.ZodType<number>>(schema: T) {
    return z.preprocess((value, ctx) => resolve(value, ctx, 'number'), schema);
  }

  function boolean() {
    return z.preprocess((value, ctx) => resolve(value, ctx, 'boolean'), z.boolean());
  }

  /** A duration in ms: a number, or a Go duration string. */
  function duration(bound: 'non-negative' | 'positive') {
    return z.preprocess(
      (value, ctx) => {
        const resolved = resolve(value, ctx, 'text');
        if (resolved === FAILED) return value;
        const reading = readDuration(resolved);
        if (reading.ok) return reading.value;
        ctx.addIssue(problemAt([], reading.problem));
        return value;
      },
      bound === 'positive' ? z.number().positive() : z.number().min(0),
    );
  }

  /** A size in bytes: a number, or a string such as "8MiB". */
  function size() {
    return z.preprocess((value, ctx) => {
      const resolved = resolve(value, ctx, 'text');
      if (resolved === FAILED) return value;
      const reading = readSize(resolved);
      if (reading.ok) return reading.value;
      ctx.addIssue(problemAt([], reading.problem));
      return value;
    }, z.int().positive());
  }

  /** A free-form map (`options`): any values, strings interpolated at any depth. */
  function freeform() {
    return z.preprocess(
      (value, ctx) => (isRecord(value) ? resolveDeep(value, ctx, []) : value),
      z.record(z.string(), z.unknown()),
    );
  }

  return { text, secret, number, boolean, duration, size, freeform };
}

/** The field builders of one parse. */
export type FieldKit = ReturnType<typeof fieldKit>;

/**
 * Wraps an object schema so that its known keys may be written in snake_case. Unknown keys
 * are reported at their own path with a "did you mean" hint; they do not stop the rest of the
 * object from being checked (so that every problem is listed at once). Keys in `blankIsUnset`
 * given as "" are read as not set (configs serialised by Go carry "" for unset strings).
 */
export function keyed<T extends z.ZodObject>(schema: T, blankIsUnset: readonly string[] = []) {
  const known = new Set(Object.keys(schema.shape));
  return z.preprocess((value, ctx) => {
    if (!isRecord(value)) return value;
    const { value: renamed, problems } = normaliseKeys(value, known);
    reportKeyProblems(ctx, problems);
    // Go writes an unset string as "" (its zero value): for these keys, read it as not set.
    for (const key of blankIsUnset) if (renamed[key] === '') delete renamed[key];
    return renamed;
  }, schema);
}

/**
 * Reports problems with keys at their own paths. They are raised as zod's own
 * "unrecognized_keys" with `continue`: the one kind of issue that lets a pipe go on to validate
 * the rest of the object, so that one run lists every problem.
 */
export function reportKeyProblems(ctx: z.core.$RefinementCtx, problems: readonly KeyProblem[]) {
  for (const problem of problems) {
    ctx.addIssue({
      code: 'unrecognized_keys',
      keys: [problem.key],
      message: problem.message,
      continue: true,
    } as unknown as z.core.$ZodRawIssue);
  }
}

/**
 * Adds one of plugwire's own rules to an object schema. Unlike a plain refinement, the rule
 * runs even when some fields failed, so that one run lists every problem; `valid(...path)`
 * tells whether a field passed its own checks (a failed field holds whatever was given, so a
 * rule must only read the fields it has checked with `valid`).
 */
export function withRule<T extends z.ZodObject>(
  schema: T,
  rule: (value: z.output<T>, valid: (...path: PropertyKey[]) => boolean) => Problem[],
): T {
  return schema.superRefine(
    (value, ctx) => {
      const valid = (...path: PropertyKey[]) =>
        !ctx.issues.some((issue) => path.every((segment, i) => issue.path?.[i] === segment));
      for (const problem of rule(value as z.output<T>, valid)) {
        ctx.addIssue({
          code: 'custom',
          path: problem.path,
          message: problem.message,
          params: { code: problem.code ?? ErrorCode.InvalidConfig },
        });
      }
    },
    { when: (payload) => isRecord(payload.value) },
  ) as T;
}
