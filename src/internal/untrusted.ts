import { redactSecrets } from '../errors.js';

/**
 * The two tools every reader of what a plugin sent uses: a JSON parse bounded in depth, and a
 * preview of any value for a log line or an error message, bounded in size, redacted, and never
 * throwing. A plugin is untrusted input: its bytes may be nested 100,000 levels deep, be megabytes
 * long, or quote a secret; none of that may crash the host or reach a log.
 */

/**
 * Deepest nesting of arrays and objects accepted in JSON a plugin sends (replies, envelopes,
 * `data`). `JSON.parse` itself copes with any depth, but whatever walks the value afterwards
 * recursively (`JSON.stringify`, a logger, the host's own code) overflows the stack somewhere
 * between 2,000 and 10,000 levels; 512 leaves a wide margin and no real payload comes close.
 */
export const MAX_JSON_DEPTH = 512;

/** Characters of a plugin's value kept in a log line or error message. */
export const PREVIEW_CHARS = 200;

/** Longest text a plugin sends that is kept in an error message (its own error, gRPC details). */
export const MAX_MESSAGE_CHARS = 8 * 1024;

/** JSON nested deeper than {@link MAX_JSON_DEPTH}: refused before it is built. */
export class JsonTooDeepError extends SyntaxError {
  constructor(readonly maxDepth: number) {
    super(`JSON nested deeper than ${maxDepth} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * `JSON.parse` that refuses nesting deeper than `maxDepth` with a {@link JsonTooDeepError} (a
 * `SyntaxError`, like any other malformed JSON). Text too short to be that deep skips the scan.
 */
export function parseJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (text.length > 2 * maxDepth && jsonDepthExceeds(text, maxDepth)) {
    throw new JsonTooDeepError(maxDepth);
  }
  return JSON.parse(text);
}

/** Whether JSON `text` opens more than `maxDepth` arrays/objects at once (strings are skipped). */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * A short, secret-free, single-value text for a log line or an error message: strings are cut,
 * anything else is written as compact JSON-like text at most a few levels deep. Never throws
 * (cycles, BigInt, throwing getters, 6,000-level nesting), costs O(max) whatever the value.
 */
export function preview(value: unknown, max = PREVIEW_CHARS): string {
  let text: string;
  let total: number;
  if (typeof value === 'string') {
    text = value.slice(0, max * 4);
    total = value.length;
  } else {
    const out = new Writer(max * 4);
    try {
      write(out, value, 0);
    } catch {
      out.push('…');
    }
    text = out.text;
    total = out.full ? -1 : text.length;
  }
  // Redact before cutting, so a secret cut in half by the limit is still recognised.
  const safe = redactSecrets(text);
  if (safe.length <= max && total === text.length) return safe;
  return `${safe.slice(0, max)}…${total > 0 ? ` (${total} chars)` : ''}`;
}

const PREVIEW_DEPTH = 4;

class Writer {
  text = '';
  full = false;
  constructor(readonly limit: number) {}
  push(part: string): void {
    if (this.full) return;
    this.text += part;
    if (this.text.length >= this.limit) {
      this.text = this.text.slice(0, this.limit);
      this.full = true;
    }
  }
}

function write(out: Writer, value: unknown, depth: number): void {
  if (out.full) return;
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value.length > out.limit ? value.slice(0, out.limit) : value));
      return;
    case 'number':
    case 'boolean':
    case 'bigint':
      out.push(String(value));
      return;
    case 'undefined':
      out.push('undefined');
      return;
    case 'function':
    case 'symbol':
      out.push(`[${typeof value}]`);
      return;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (depth >= PREVIEW_DEPTH) {
    out.push(Array.isArray(value) ? '[…]' : '{…}');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length && !out.full; i++) {
      if (i > 0) out.push(',');
      write(out, value[i], depth + 1);
    }
    out.push(']');
    return;
  }
  out.push('{');
  let first = true;
  for (const key in value as object) {
    if (out.full) break;
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (!first) out.push(',');
    first = false;
    out.push(`${JSON.stringify(key.length > out.limit ? key.slice(0, out.limit) : key)}:`);
    write(out, (value as Record<string, unknown>)[key], depth + 1);
  }
  out.push('}');
}
