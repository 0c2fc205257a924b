import { registerSecret } from '../errors.js';

/**
 * What counts as a secret in a configuration. Values of secret fields are registered as they
 * are read, and `redactSecrets()` then removes them from every message, error, log line and
 * event. Everything else stays readable, wherever it came from: a host name from `${PLUGIN_HOST}`
 * is not a secret, a token typed into the file is.
 *
 * Secret fields:
 * - `auth.apiKey`, `auth.token`, `auth.password` and every value of `auth.headers` (declared
 *   with the field kit's `secret()`);
 * - the password of an endpoint URL (`https://user:password@host`);
 * - an exec `env` entry whose name looks secret (`API_TOKEN=…`, `DB_PASSWORD=…`);
 * - a string under `options` whose key looks secret (`options.clientSecret`, `options.api_key`).
 *
 * A name looks secret when one of its words (split at `_`, `-`, `.` and camelCase humps) is
 * token, password, passwd, pass, pwd, secret, credential(s), authorization or cookie, or two
 * adjacent words make apikey, accesskey, clientkey, privatekey, secretkey or sessionkey.
 * `tokenizer` or `keyboard` are not secret names.
 */

const SECRET_WORDS = new Set([
  'token',
  'tokens',
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'secrets',
  'credential',
  'credentials',
  'authorization',
  'cookie',
]);
const SECRET_PAIRS = new Set([
  'apikey',
  'accesskey',
  'clientkey',
  'privatekey',
  'secretkey',
  'sessionkey',
]);

/** Whether a field, header or variable name names a secret (see the rules above). */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
  for (let i = 0; i < words.length; i++) {
    if (SECRET_WORDS.has(words[i]!)) return true;
    if (i > 0 && SECRET_PAIRS.has(words[i - 1]! + words[i]!)) return true;
  }
  return false;
}

/** Registers the value of a `NAME=value` env entry when NAME looks secret. */
export function registerEnvEntrySecret(entry: string): void {
  const equals = entry.indexOf('=');
  if (equals > 0 && isSecretName(entry.slice(0, equals))) registerSecret(entry.slice(equals + 1));
}

/** Registers the password of a URL (`scheme://user:password@host`), when it has one. */
export function registerUrlPassword(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return;
  }
  if (url.password === '') return;
  registerSecret(url.password);
  try {
    registerSecret(decodeURIComponent(url.password)); // as an error may print it
  } catch {
    // not valid percent-encoding: the raw form is registered
  }
}
