/**
 * The cold-start cost of `import 'plugwire'`: a fresh Node process importing the built package
 * (dist/, built first), against a bare `node -e 0`, alternating, RUNS times each; medians. Also
 * a `serveStdio` child's whole life (start, handshake, stdin ends, exit) beside a hand-written
 * one (goal: within 1.2× of `node -e 0`).
 * Which packages the import loads is checked by test/transport/lazy-deps.test.ts.
 * Run: npm run bench -- import-cost   Env: BENCH_RUNS (20), BENCH_ENTRY (another built index.js
 * to compare, e.g. a build of an older commit; its sdk/index.js beside it, if any, is timed as a
 * serveStdio child too)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printTable } from './stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const build = spawnSync(process.execPath, ['scripts/build.mjs'], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (build.status !== 0) throw new Error('build failed');

const entries: Array<[string, string]> = [['plugwire (dist/index.js)', `${ROOT}dist/index.js`]];
if (process.env.BENCH_ENTRY)
  entries.push([`other: ${process.env.BENCH_ENTRY}`, process.env.BENCH_ENTRY]);

function timeOf(args: string[]): number {
  const started = performance.now();
  // stdin is empty: a plugin child sees it end at once and exits.
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', input: '' });
  if (run.status !== 0) throw new Error(run.stderr);
  return performance.now() - started;
}

/** An exec plugin's whole life with nothing to do: start, handshake, stdin ends, exit. */
const stdioChild = (sdk: string): string[] => [
  '--input-type=module',
  '-e',
  `const { serveStdio } = await import(${JSON.stringify(sdk)}); await serveStdio(() => 1);`,
];
const otherSdk = process.env.BENCH_ENTRY && join(dirname(process.env.BENCH_ENTRY), 'sdk/index.js');

const sides: Array<[string, string[]]> = [
  ['node -e 0', ['-e', '0']],
  ...entries.map(([name, file]): [string, string[]] => [
    `import ${name}`,
    ['--input-type=module', '-e', `await import(${JSON.stringify(file)})`],
  ]),
  ['serveStdio child (plugwire/sdk)', stdioChild(`${ROOT}dist/sdk/index.js`)],
  ...(otherSdk && existsSync(otherSdk)
    ? [[`serveStdio child, other: ${otherSdk}`, stdioChild(otherSdk)] as [string, string[]]]
    : []),
  ['hand-written stdio child (minimal.mjs)', [`${ROOT}bench/transports/minimal.mjs`, 'stdio']],
];
const times = new Map<string, number[]>(sides.map(([name]) => [name, []]));
for (let i = 0; i < RUNS; i++)
  for (const [name, args] of sides) times.get(name)!.push(timeOf(args));
const bare = median(times.get('node -e 0')!);
printTable(
  `cold start, ${RUNS} processes each, alternating; median wall ms (Node ${process.version})`,
  sides.map(([name]) => {
    const ms = median(times.get(name)!);
    return { process: name, ms: ms.toFixed(0), 'vs node -e 0': `${(ms / bare).toFixed(2)}×` };
  }),
);
