/** The environment variables `${NAME}` references are read from. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The outcome of interpolating one string. */
export type Interpolation =
  | {
      ok: true;
      value: string;
      /** Values that were taken from the environment. */
      fromEnv: string[];
    }
  | { ok: false; problem: string };

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// `$${` is an escaped, literal `${`; `${…}` a reference; a lone `${` is unterminated.
const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;

/** Whether a string contains anything {@link interpolate} would change. */
export function hasReference(text: string): boolean {
  return text.includes('${');
}

/**
 * Replaces `${NAME}` and `${NAME:-fallback}` in `text` with values from `env`. The fallback
 * is used when the variable is unset or empty, as in a POSIX shell. `$${` stands for a literal
 * `${`; a `$` not followed by `{` is left alone (so that passwords with `$` need no escaping).
 *
 * Problems never quote the variable's value, only its name.
 */
export function interpolate(text: string, env: Env): Interpolation {
  const fromEnv: string[] = [];
  const missing: string[] = [];
  let malformed: string | undefined;
  const value = text.replace(REFERENCE, (whole: string, inner: string | undefined) => {
    if (whole === '$${') return '${';
    if (inner === undefined) {
      malformed ??= 'has an unterminated "${": write ${NAME}, or $${ for a literal "${"';
      return whole;
    }
    const separator = inner.indexOf(':-');
    const name = separator === -1 ? inner : inner.slice(0, separator);
    if (!VARIABLE_NAME.test(name)) {
      malformed ??=
        'has a malformed variable reference: write ${NAME} or ${NAME:-fallback}, where NAME is letters, digits and _';
      return whole;
    }
    const found = env[name];
    if (separator !== -1 && (found === undefined || found === '')) {
      return inner.slice(separator + 2);
    }
    if (found === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    fromEnv.push(found);
    return found;
  });
  if (malformed) return { ok: false, problem: malformed };
  if (missing.length > 0) {
    const list = missing.join(', ');
    return {
      ok: false,
      problem:
        missing.length === 1
          ? `environment variable ${list} is not set (set it, or give a fallback: \${${missing[0]}:-value})`
          : `environment variables ${list} are not set`,
    };
  }
  return { ok: true, value, fromEnv };
}
