/**
 * The cold-start cost of `import 'plugwire'`: a fresh Node process importing the built package
 * (dist/, built first), against a bare `node -e 0`, alternating, RUNS times each; medians. Also
 * a `serveStdio` child's whole life (start, handshake, stdin ends, exit) beside a hand-written
 * one (goal: within 1.2× of `node -e 0`), and the floor under any ESM exec plugin (a module that
 * reads stdin and writes a line). Wall time (median) and, on Linux, the children's CPU time (mean).
 * Which packages the import loads is checked by test/transport/lazy-deps.test.ts.
 * Run: npm run bench -- import-cost   Env: BENCH_RUNS (20), BENCH_ENTRY (another built index.js
 * to compare, e.g. a build of an older commit; its sdk/index.js beside it, if any, is timed as a
 * serveStdio child too)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Milliseconds per clock tick of /proc's CPU times (`getconf CLK_TCK`, usually 100 Hz). */
const TICK_MS =
  1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);

/**
 * CPU time (user + system, ms) of the children this process has waited for, from
 * /proc/self/stat (`cutime` + `cstime`, in clock ticks); undefined off Linux. Summed over many
 * runs the tick resolution averages out: the mean per process is what is reported.
 */
function childCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * TICK_MS; // fields 16 and 17 of proc(5)
  } catch {
    return undefined;
  }
}

function timeOf(args: string[], cpu: number[]): number {
  const cpuBefore = childCpuMs();
  const started = performance.now();
  // stdin is empty: a plugin child sees it end at once and exits.
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', input: '' });
  if (run.status !== 0) throw new Error(run.stderr);
  const ms = performance.now() - started;
  const cpuAfter = childCpuMs();
  if (cpuBefore !== undefined && cpuAfter !== undefined) cpu.push(cpuAfter - cpuBefore);
  return ms;
}

/** An exec plugin's whole life with nothing to do: start, handshake, stdin ends, exit. */
const stdioChild = (sdk: string): string[] => [
  '--input-type=module',
  '-e',
  `const { serveStdio } = await import(${JSON.stringify(sdk)}); await serveStdio(() => 1);`,
];
function esmFloor(before: string): string[] {
  return [
    '--input-type=module',
    '-e',
    `${before} process.stdin.on('data', () => {}); process.stdout.write('{}\\n');`,
  ];
}
const EMPTY_MODULE = join(mkdtempSync(join(tmpdir(), 'plugwire-import-cost-')), 'empty.mjs');
writeFileSync(EMPTY_MODULE, '');
process.on('exit', () => rmSync(dirname(EMPTY_MODULE), { recursive: true, force: true }));
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
  // The floors under any exec plugin written in ESM: a module that reads stdin and writes one
  // line (reading a pipe loads node:net and node:stream, which Node 20 compiles at start), and
  // the same after importing an empty module file (what the ESM loader costs for any import).
  ['ESM: reads stdin, writes a line (floor)', esmFloor('')],
  [
    'ESM: imports an empty file, then the same (floor)',
    esmFloor(`await import(${JSON.stringify(EMPTY_MODULE)});`),
  ],
];
const times = new Map<string, number[]>(sides.map(([name]) => [name, []]));
const cpus = new Map<string, number[]>(sides.map(([name]) => [name, []]));
for (let i = 0; i < RUNS; i++)
  for (const [name, args] of sides) times.get(name)!.push(timeOf(args, cpus.get(name)!));
const bare = median(times.get('node -e 0')!);
const meanCpu = (name: string): number | undefined => {
  const all = cpus.get(name)!;
  return all.length === 0 ? undefined : all.reduce((a, b) => a + b, 0) / all.length;
};
const bareCpu = meanCpu('node -e 0');
printTable(
  `cold start, ${RUNS} processes each, alternating; median wall ms, mean CPU ms (Node ${process.version})`,
  sides.map(([name]) => {
    const ms = median(times.get(name)!);
    const cpu = meanCpu(name);
    return {
      process: name,
      ms: ms.toFixed(0),
      'vs node -e 0': `${(ms / bare).toFixed(2)}×`,
      'CPU ms': cpu === undefined ? '-' : cpu.toFixed(1),
      'CPU vs node -e 0':
        cpu === undefined || bareCpu === undefined ? '-' : `${(cpu / bareCpu).toFixed(2)}×`,
    };
  }),
);
