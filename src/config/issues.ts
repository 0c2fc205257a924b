import type { z } from 'zod';
import { ErrorCode, redactSecrets, type ConfigIssue } from '../errors.js';

/**
 * Turning zod's issues into {@link ConfigIssue}s: readable paths (`plugins[2].retry.maxRetries`),
 * messages that never quote the offending value (it may be a secret), and go-plugins codes.
 */

type Path = readonly PropertyKey[];

/** A problem found by one of plugwire's own rules, relative to the object the rule checks. */
export interface Problem {
  path: PropertyKey[];
  message: string;
  code?: ErrorCode | undefined;
}

/** `['plugins', 2, 'labels', 'app.kubernetes.io/name']` → `plugins[2].labels["app.kubernetes.io/name"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z0-9_$-]+$/.test(segment)) {
      out += out === '' ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** `options.model[2].name` → `['options', 'model', 2, 'name']` (paths given by factories). */
export function parsePath(text: string): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (const [, key, index, quoted] of text.matchAll(
    /([^.[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g,
  )) {
    if (key !== undefined) path.push(key);
    else if (index !== undefined) path.push(Number(index));
    else if (quoted !== undefined) path.push(JSON.parse(quoted) as string);
  }
  return path;
}

/**
 * Messages for zod's own issue codes. Schemas that need a specific message set their own; this
 * map words the rest. It looks at the input's type only, never at its value.
 */
export function zodMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${expectedName(issue.expected)}, got ${typeName(issue.input)}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `must have at least ${min} item${min === 1 ? '' : 's'}`;
      if (issue.inclusive) return min === 0 ? 'must not be negative' : `must be at least ${min}`;
      return `must be greater than ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array') return `must have at most ${max} items`;
      return issue.inclusive ? `must be at most ${max}` : `must be less than ${max}`;
    }
    case 'invalid_value':
      return `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return 'has an invalid format';
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'is not a valid key';
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return undefined;
  }
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'an object (a mapping of keys to values)';
    case 'array':
      return 'a list';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${expected}`;
  }
}

/** The kind of a value, for messages: its type, never its content. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fractional number';
  return `a ${typeof value}`;
}

/** Which document a set of issues comes from: a whole config or one plugin's config. */
export type IssueScope = 'manager' | 'plugin';

const HIDDEN_KEY =
  'unknown key (its name is not shown: it may hold a secret; look for a missing space after ":" or a "," typed for ":")';

// The fields of `auth`: an unknown key there is shown only as a near miss of one of them.
const AUTH_FIELDS = [
  'method',
  'apikey',
  'token',
  'username',
  'password',
  'certfile',
  'keyfile',
  'cafile',
  'headers',
];

/**
 * Whether an unknown key may be printed. A typo turns values into keys (`token:S3cret` with no
 * space, `token, S3cret` with a comma), so a key is shown only when it reads as a plain field
 * name and, in the `auth` section (whose values are secrets), only when it is a misspelling of
 * one of its fields (`tokne`), which no secret value is.
 */
function keyMayBeShown(path: Path, key: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(key) || redactSecrets(key) !== key) return false;
  if (!path.includes('auth')) return true;
  const plain = key.toLowerCase().replace(/[-_]/g, '');
  return plain.length <= 12 && AUTH_FIELDS.some((field) => editDistance(plain, field) <= 2);
}

/** Levenshtein distance (short strings only). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** Converts zod's final issues to config issues, one per problem, each with its code. */
export function toConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  scope: IssueScope,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const code = (issue as { params?: { code?: ErrorCode } }).params?.code;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const shown = keyMayBeShown(issue.path, key);
        out.push({
          path: formatPath(shown ? [...issue.path, key] : issue.path),
          message: shown ? issue.message : HIDDEN_KEY,
          code: code ?? ErrorCode.InvalidConfig,
        });
      }
      continue;
    }
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    out.push({
      path: formatPath(issue.path),
      message: issue.message,
      code: code ?? inferCode(issue, scope, missing),
    });
  }
  return scope === 'manager' ? sortByDocument(out) : out;
}

// Zod's own issues carry no go-plugins code; the field they concern tells which one applies.
function inferCode(issue: z.core.$ZodIssue, scope: IssueScope, missing: boolean): ErrorCode {
  const path = issue.path;
  if (scope === 'manager') {
    if (path.length === 1 && path[0] === 'plugins' && missing) return ErrorCode.NoPluginsConfigured;
    if (path[0] === 'groups' && issue.code === 'invalid_key') return ErrorCode.InvalidPluginName;
  }
  const inPlugin =
    scope === 'plugin'
      ? path
      : path[0] === 'plugins' && typeof path[1] === 'number'
        ? path.slice(2)
        : undefined;
  if (inPlugin === undefined) return ErrorCode.InvalidConfig;
  const field = inPlugin.join('.');
  switch (field) {
    case 'name':
    case 'group':
      return ErrorCode.InvalidPluginName;
    case 'transport':
      return ErrorCode.InvalidTransport;
    case 'endpoint':
      return missing ? ErrorCode.MissingEndpoint : ErrorCode.InvalidEndpointFormat;
    case 'auth.method':
      return ErrorCode.UnsupportedAuthMethod;
    default:
      return ErrorCode.InvalidConfig;
  }
}

const SECTION_ORDER = [
  'defaults',
  'groups',
  'readiness',
  'retryBudget',
  'startupConcurrency',
  'plugins',
];

// Zod reports in schema order and runs whole-config rules last; readers expect document order,
// so issues are grouped by top-level section and plugin index (stable within a group). Unknown
// top-level keys come first.
function sortByDocument(issues: ConfigIssue[]): ConfigIssue[] {
  const rankOf = (path: string): [number, number] => {
    const match = /^([A-Za-z0-9_$-]*)(?:\[(\d+)\])?/.exec(path);
    const rank = SECTION_ORDER.indexOf(match?.[1] ?? '');
    return [rank + 1, match?.[2] === undefined ? -1 : Number(match[2])];
  };
  return issues
    .map((issue, index) => ({ issue, index, rank: rankOf(issue.path) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.index - b.index)
    .map((entry) => entry.issue);
}
