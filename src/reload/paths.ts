import { isDeepStrictEqual } from 'node:util';

/**
 * Leaf-level comparison of two config values, as field paths (`circuitBreaker.failureThreshold`,
 * `args[1]`, `labels["app.kubernetes.io/name"]`). Paths only, never values: the result is safe
 * to log even when the compared fields hold secrets.
 */

// Keys written with a dot; anything else (dots, slashes, spaces) is quoted in brackets so that
// a path always reads back to one field.
const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** The path of `key` inside `path`. */
export function childPath(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return Array.isArray(value) || isPlainObject(value);
}

// Keys in code-unit order (not locale order), so the result is the same on every machine.
function sortedKeys(...objects: Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const object of objects) for (const key of Object.keys(object)) keys.add(key);
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Every leaf path where `before` and `after` differ, depth first, object keys in sorted order
 * and array items by index (order matters: `args`, `env`). A key missing on one side reports
 * the leaves of the other side; an absent key and an `undefined` value are the same.
 */
export function changedPaths(before: unknown, after: unknown, path = ''): string[] {
  const out: string[] = [];
  collect(before, after, path, out);
  return out;
}

function collect(before: unknown, after: unknown, path: string, out: string[]): void {
  if (before === after) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of sortedKeys(before, after)) {
      collect(before[key], after[key], childPath(path, key), out);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    for (let i = 0; i < length; i++) collect(before[i], after[i], `${path}[${i}]`, out);
    return;
  }
  if (isContainer(before) || isContainer(after)) {
    // A shape change (a value became a map, a list became absent…): everything on either side.
    const paths = new Set([...leaves(before, path), ...leaves(after, path)]);
    out.push(...paths);
    return;
  }
  // Leaves: numbers (NaN equals NaN), strings, booleans, null; other objects (Date, Map, class
  // instances in `options` built in code) by structure.
  if (!isDeepStrictEqual(before, after)) out.push(path);
}

/** The leaf paths of one value, as if compared with nothing. */
function leaves(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (isPlainObject(value)) {
    const keys = sortedKeys(value);
    if (keys.length === 0) return [path];
    return keys.flatMap((key) => leaves(value[key], childPath(path, key)));
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return [path];
    return value.flatMap((item, i) => leaves(item, `${path}[${i}]`));
  }
  return [path];
}
