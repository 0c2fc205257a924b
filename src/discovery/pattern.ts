/**
 * File name patterns with the syntax of Go's `filepath.Match` (go-plugins uses it): `*` any run
 * of characters, `?` one character, `[abc]`, `[a-z]`, `[^a-z]` (or `[!a-z]`) a class, `\` quotes
 * the next character. A pattern matches the whole name. Names starting with `.` match only a
 * pattern that starts with `.` (as in a shell), so `..data` and editors' swap files never do.
 */
export function compilePattern(pattern: string): (name: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '\\' && i + 1 < pattern.length) source += escape(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) throw new Error(`pattern "${pattern}": "[" without a closing "]"`);
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^') || body.startsWith('!');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\]\\^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else source += escape(c);
  }
  const regex = new RegExp(`^${source}$`, 's');
  const dotted = pattern.startsWith('.');
  return (name) => (dotted || !name.startsWith('.')) && regex.test(name);
}

/** One matcher for several patterns: a name matches when any pattern does. */
export function compilePatterns(patterns: readonly string[]): (name: string) => boolean {
  const matchers = patterns.map(compilePattern);
  return (name) => matchers.some((matches) => matches(name));
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
