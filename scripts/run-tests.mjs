// Runs the test suite with Node's own test runner. Node 20 has no glob support in `--test`,
// so the files are listed here: unit tests beside the code (src/**/*.test.ts) and integration
// tests in test/. Extra arguments are passed to node (e.g. a file to run alone). test/consumers
// (the packed package compiled by consumer projects: CPU-heavy) has its own npm script.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SEPARATE = new Set([join('test', 'consumers')]);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return SEPARATE.has(path) || entry.name === 'node_modules' ? [] : find(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : [...find('src'), ...find('test')].sort();
const result = spawnSync(
  process.execPath,
  [
    '--loader',
    'ts-node/esm',
    '--no-warnings',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
);
process.exit(result.status ?? 1);
