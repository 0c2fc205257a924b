// Where the tests run from: the TypeScript sources through ts-node, or the compiled test tree
// .test-build/ (scripts/run-tests.mjs; see scripts/test-build.mjs), where every .ts file has its
// .js beside it and the rest of the repository is linked in.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './tmp.js';

/** True when this module (so every test) runs compiled, from .test-build/. */
export const COMPILED = import.meta.url.endsWith('.js');

/** The repository's root (the real one, also when the tests run from .test-build/). */
export const ROOT = fileURLToPath(new URL(COMPILED ? '../../..' : '../..', import.meta.url));

/**
 * The node arguments that run a TypeScript script of the repository (`script` a `.ts` URL,
 * resolved against the test's `import.meta.url`): its compiled `.js` when the tests run
 * compiled, otherwise the `.ts` through ts-node (transpile-only when TS_NODE_TRANSPILE_ONLY is
 * set, as scripts/run-tests.mjs sets it).
 */
export function nodeScript(script: URL): string[] {
  const path = fileURLToPath(script);
  if (!path.endsWith('.ts')) throw new Error(`nodeScript: ${path} is not a .ts file`);
  return COMPILED ? [path.slice(0, -'.ts'.length) + '.js'] : ['--loader', 'ts-node/esm', path];
}

/**
 * Runs a TypeScript host script (see {@link nodeScript}) with a module-resolution hook loaded by
 * `--import`, and returns the JSON object its last stdout line prints. The hook writes what it
 * saw to a log file in a temp dir, whose path the host reads from `DEPS_LOG`. Asserts exit 0.
 */
export function runHooked(
  hook: URL,
  script: URL,
  env: Record<string, string> = {},
): Record<string, any> {
  const dir = tempDir('plugwire-hooked-');
  try {
    const log = join(dir.dir, 'deps.log');
    writeFileSync(log, '');
    const run = spawnSync(
      process.execPath,
      ['--import', fileURLToPath(hook), '--no-warnings', ...nodeScript(script)],
      {
        encoding: 'utf8',
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', ...env, DEPS_LOG: log },
        timeout: 60_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
  } finally {
    dir.remove();
  }
}
