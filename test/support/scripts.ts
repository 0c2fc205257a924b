// Where the tests run from: the TypeScript sources through ts-node, or the compiled test tree
// .test-build/ (scripts/run-tests.mjs; see scripts/test-build.mjs), where every .ts file has its
// .js beside it and the rest of the repository is linked in.
import { fileURLToPath } from 'node:url';

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
