// Runs the test suite with Node's own test runner on the compiled test tree (.test-build/, see
// scripts/test-build.mjs: tsc compiles src/ and test/ once, instead of ts-node transpiling them
// in each test file's process). Node 20 has no glob support in `--test`, so the files are listed
// here: unit tests beside the code (src/**/*.test.ts) and integration tests in test/**/*.test.ts,
// found in the sources, so a new test file is picked up and a deleted one is not run from a
// stale build. Arguments ending in .ts name test files to run alone (their compiled .js runs);
// other arguments are passed to node. test/consumers (the packed package compiled by consumer
// projects: CPU-heavy) has its own npm script.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { OUT, ROOT, ensureTestBuild } from './test-build.mjs';

const SEPARATE = new Set([join(ROOT, 'test', 'consumers')]);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return SEPARATE.has(path) || entry.name === 'node_modules' ? [] : find(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The compiled counterpart of a .ts source file. */
function compiled(file) {
  return join(OUT, relative(ROOT, resolve(file))).replace(/\.ts$/, '.js');
}

const args = process.argv.slice(2);
const named = args.filter((arg) => arg.endsWith('.ts'));
const options = args.filter((arg) => !arg.endsWith('.ts'));
const files =
  named.length > 0 ? named : [...find(join(ROOT, 'src')), ...find(join(ROOT, 'test'))].sort();

ensureTestBuild();
const result = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--no-warnings',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...options,
    ...files.map((file) => relative(process.cwd(), compiled(file))),
  ],
  // Tests that start a TypeScript child with ts-node (rather than its compiled .js) get the
  // transpile-only mode the suite always ran under.
  { stdio: 'inherit', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
);
process.exit(result.status ?? 1);
