import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigError, ErrorCode, errnoCode } from '../errors.js';
import { parseConfig, type RegistryOptions } from './parse.js';
import type { ManagerConfig } from './types.js';
import { errorMessage } from '../internal/errorMessage.js';

/** The yaml module, imported when a file is read (not with plugwire). */
type Yaml = typeof import('yaml');

/**
 * Reads a config file and validates it with `parseConfig()`. `.json` files are read as JSON;
 * `.yaml`, `.yml` and any other extension as YAML (which also reads most JSON).
 *
 * @throws {ConfigError} when the file cannot be read (`PLUGIN_1000`), is not valid JSON/YAML
 *   (`PLUGIN_1011`, with the line and column), or is not a valid config.
 */
export async function loadConfigFile(
  path: string,
  options: RegistryOptions = {},
): Promise<ManagerConfig> {
  const source = options.source ?? path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = errnoCode(cause) ?? errorMessage(cause);
    throw new ConfigError(
      [{ path: '', message: `cannot read the file (${reason})`, code: ErrorCode.InvalidConfig }],
      source,
      { cause },
    );
  }
  // yaml is imported when a file is read, not with plugwire.
  const yaml: Yaml = await import('yaml');
  const document =
    extname(path).toLowerCase() === '.json' ? readJson(text, yaml) : readYaml(text, yaml);
  if (!document.ok) {
    const at =
      document.line === undefined ? '' : `line ${document.line}, column ${document.column}: `;
    throw new ConfigError(
      [{ path: '', message: `${at}${document.problem}`, code: ErrorCode.InvalidJSONConfig }],
      source,
    );
  }
  if (document.value === undefined || document.value === null) {
    throw new ConfigError(
      [
        {
          path: '',
          message: 'the file is empty: no plugins configured',
          code: ErrorCode.NoPluginsConfigured,
        },
      ],
      source,
    );
  }
  return parseConfig(document.value, { ...options, source });
}

type Document =
  | { ok: true; value: unknown }
  | { ok: false; problem: string; line?: number | undefined; column?: number | undefined };

function readYaml(text: string, yaml: Yaml): Document {
  try {
    // `merge` allows `<<: *shared` to reuse a block of settings. Errors and warnings are read
    // from the document: `parse()` would print warnings (an unknown tag such as `!secret`, which
    // quote the source line, secrets included) as process warnings and load the file anyway.
    const document = yaml.parseDocument(text, { merge: true, logLevel: 'silent' });
    const problem = document.errors[0] ?? document.warnings[0];
    if (problem !== undefined) return { ok: false, ...describeSyntaxError(problem, 'YAML') };
    return { ok: true, value: document.toJS() };
  } catch (error) {
    return { ok: false, ...describeSyntaxError(error, 'YAML') };
  }
}

function readJson(text: string, yaml: Yaml): Document {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // V8's message quotes the source around the error (it could hold a secret), so that
    // excerpt is cut. The YAML parser (strict JSON schema) is asked first: it gives a line and
    // column for most errors; otherwise V8's position is turned into one.
    const message = error instanceof Error ? error.message : '';
    const position = /position (\d+)/.exec(message)?.[1];
    try {
      yaml.parse(text, { schema: 'json', logLevel: 'silent' });
    } catch (yamlError) {
      const described = describeSyntaxError(yamlError, 'JSON');
      if (described.line !== undefined) return { ok: false, ...described };
    }
    const reason = message
      .replace(/,? ".*" is not valid JSON$/s, '')
      .replace(/ (?:in JSON )?at position \d+.*$/s, '');
    const at = position === undefined ? {} : lineAndColumn(text, Number(position));
    return { ok: false, problem: `not valid JSON: ${reason}`, ...at };
  }
}

function describeSyntaxError(
  error: unknown,
  format: 'YAML' | 'JSON',
): { problem: string; line?: number | undefined; column?: number | undefined } {
  const message = errorMessage(error);
  // The parser's first sentence names the problem; the rest is a source excerpt, left out, and
  // quoted text is elided, since either could hold a secret.
  const reason = message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/"[^"\n]*"/g, '"…"')
    // A tag's name is the user's text too (`token: !S3cret` is a typo away).
    .replace(/!\S*/g, '!…');
  const position = (error as { linePos?: [{ line: number; col: number }] }).linePos?.[0];
  return {
    problem: `not valid ${format}: ${reason}`,
    line: position?.line,
    column: position?.col,
  };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
