// Fuzz tier (issue 10): configs with planted secrets, mutated the way people mistype them
// (a missing space, a comma for a colon, a stray tag, a lost quote or newline). Whatever the
// mutation, loading either succeeds or throws a ConfigError, and the secret is never shown:
// not in the message, the JSON view, the inspected error, or a process warning.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfigFile } from '../../src/builtinConfig.js';
import { isConfigError } from '../../src/errors.js';
import { tempDir } from '../support/tmp.js';
import { fuzzOptions } from './support.js';

const tmp = tempDir('plugwire-fuzz-config-');
after(() => tmp.remove());

// Placeholders, replaced by fresh secrets in each run: a secret seen once is remembered by the
// redactor, which would hide a leak of the same value in a later run.
const TOKEN = 'TOKEN_PLACEHOLDER';
const PASSWORD = 'PASSWORD_PLACEHOLDER';

const YAML = `plugins:
  - name: vault
    transport: https
    endpoint: https://127.0.0.1:8443/api
    auth: { method: bearer, token: ${TOKEN} }
  - name: basic
    transport: http
    endpoint: http://127.0.0.1:8080/api
    auth:
      method: basic
      username: admin
      password: "${PASSWORD}"
  - name: env
    transport: http
    endpoint: http://127.0.0.1:8081/api
    auth: { method: api-key, apiKey: "\${FUZZ_TOKEN}" }
`;

const JSON_CONFIG = JSON.stringify(
  {
    plugins: [
      {
        name: 'vault',
        transport: 'http',
        endpoint: 'http://127.0.0.1:8080/api',
        auth: { method: 'bearer', token: TOKEN },
      },
      {
        name: 'basic',
        transport: 'http',
        endpoint: 'http://127.0.0.1:8081/api',
        auth: { method: 'basic', username: 'admin', password: PASSWORD },
      },
    ],
  },
  null,
  2,
);

type Mutation = { at: number; edit: string };

// Edits at a position (taken modulo the text's length); '' deletes one character.
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  edit: fc.constantFrom(
    '',
    ',',
    ':',
    ' ',
    '\n',
    '!secret ',
    '!',
    '"',
    "'",
    '{',
    '}',
    '- ',
    '#',
    '&a ',
    '*a',
  ),
});

// The typos the issue found, aimed at the secrets: the space after "token:" removed, the colon
// turned into a comma, a tag in front of the value.
const aimed = fc.constantFrom(
  (t: string) => t.replace(`token: ${TOKEN}`, `token:${TOKEN}`),
  (t: string) => t.replace(`token: ${TOKEN}`, `token, ${TOKEN}`),
  (t: string) => t.replace(`token: ${TOKEN}`, `token: !secret ${TOKEN}`),
  (t: string) => t.replace(`password: "${PASSWORD}"`, `password:"${PASSWORD}"`),
  (t: string) => t.replace(`password: "${PASSWORD}"`, `${PASSWORD}: password`),
  (t: string) => t,
);

function apply(text: string, mutations: Mutation[]): string {
  let out = text;
  for (const { at, edit } of mutations) {
    const i = at % (out.length + 1);
    out = edit === '' ? out.slice(0, i) + out.slice(i + 1) : out.slice(0, i) + edit + out.slice(i);
  }
  return out;
}

let files = 0;
async function check(template: string, extension: '.yaml' | '.json'): Promise<void> {
  const run = ++files;
  const secrets = [`Tok3n${run}Planted`, `Passw0rd${run}Planted`, `EnvT0ken${run}Planted`];
  const text = template.replaceAll(TOKEN, secrets[0]!).replaceAll(PASSWORD, secrets[1]!);
  const file = join(tmp.dir, `c${run}${extension}`);
  writeFileSync(file, text);
  try {
    await loadConfigFile(file, { env: { FUZZ_TOKEN: secrets[2]! } });
  } catch (error) {
    assert.ok(isConfigError(error), `not a ConfigError: ${String(error)}`);
    for (const shown of [error.message, JSON.stringify(error), inspect(error, { depth: 6 })]) {
      for (const secret of secrets) {
        assert.ok(
          !shown.includes(secret),
          `the error shows a secret:\n${shown}\n--- from:\n${text}`,
        );
      }
    }
  }
}

test('mutated YAML and JSON configs never show a planted secret, nor print a warning', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    await fc.assert(
      fc.asyncProperty(
        aimed,
        fc.array(mutation, { maxLength: 3 }),
        fc.boolean(),
        async (typo, mutations, json) => {
          if (json) await check(apply(JSON_CONFIG, mutations), '.json');
          else await check(apply(typo(YAML), mutations), '.yaml');
        },
      ),
      fuzzOptions(600),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
  }
});
