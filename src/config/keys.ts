/**
 * Key spelling: configs may use camelCase or go-plugins' snake_case for the keys plugwire
 * knows. Only known keys are renamed, so that user maps (`labels`, `options`, `auth.headers`,
 * group names) keep their keys exactly as written.
 */

/** `failure_threshold` → `failureThreshold`. */
export function camelCase(key: string): string {
  return key.replace(/_+([a-zA-Z0-9])/g, (_, next: string) => next.toUpperCase());
}

/** `failureThreshold` → `failure_threshold`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (upper) => `_${upper.toLowerCase()}`);
}

/** A problem with one key of an object, reported at that key. */
export interface KeyProblem {
  key: string;
  message: string;
}

/**
 * Renames the known keys of `input` to camelCase. Keys whose value is `null` are dropped (an
 * empty YAML entry means "not set"). Unknown keys and keys given twice (`max_retries` and
 * `maxRetries`) are left out of the result and reported.
 */
export function normaliseKeys(
  input: Record<string, unknown>,
  known: ReadonlySet<string>,
): { value: Record<string, unknown>; problems: KeyProblem[] } {
  const value: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  const problems: KeyProblem[] = [];
  for (const [key, item] of Object.entries(input)) {
    const name = known.has(key) ? key : camelCase(key);
    if (!known.has(name)) {
      problems.push({ key, message: unknownKeyMessage(key, known) });
      continue;
    }
    const earlier = spelledAs.get(name);
    if (earlier !== undefined) {
      problems.push({
        key,
        message: `"${key}" and "${earlier}" are the same setting; keep only one`,
      });
      continue;
    }
    spelledAs.set(name, key);
    if (item !== null) value[name] = item;
  }
  return { value, problems };
}

/** "unknown key", with the nearest known key when one is close. */
export function unknownKeyMessage(key: string, known: Iterable<string>): string {
  const hint = closest(key, known);
  return hint === undefined ? 'unknown key' : `unknown key; did you mean "${hint}"?`;
}

/**
 * The candidate closest to `word`, when it is close enough to be a plausible typo: the same
 * letters ignoring case and `_`/`-`, or a small edit distance.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const target = squash(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(target, squash(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = target.length <= 4 ? 1 : target.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

function squash(word: string): string {
  return word.toLowerCase().replace(/[_-]/g, '');
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("tsl" → "tls").
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
