/**
 * Runs every benchmark in bench/ one after the other, each in its own process (so one's JIT
 * state and heap never colour another's). `npm run bench -- <name>` runs the ones whose file
 * name contains <name>. Figures are recorded in docs/performance.md.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filter = process.argv[2];
const files = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'stats.ts'].includes(f))
  .filter((f) => filter === undefined || f.includes(filter))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n# bench/${file}`);
  const result = spawnSync(
    process.execPath,
    ['--loader', 'ts-node/esm', '--no-warnings', `bench/${file}`],
    { stdio: 'inherit', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
  );
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
