/**
 * Runs every benchmark in bench/ one after the other, each in its own process (so one's JIT
 * state and heap never colour another's). `npm run bench -- <name>` runs bench/<name>.ts if there is
 * one, else the ones whose file name contains <name>. Figures are recorded in docs/performance.md.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filter = process.argv[2];
const all = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'stats.ts'].includes(f))
  .sort();
// A whole name runs that benchmark alone (`cluster` is not also the 40-minute `cluster-live`).
const files = all.includes(`${filter}.ts`)
  ? [`${filter}.ts`]
  : all.filter((f) => filter === undefined || f.includes(filter));

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
