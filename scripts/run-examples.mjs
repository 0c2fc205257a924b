// Examples smoke test: runs every examples/*.ts with ts-node (as users would) and fails if one
// exits non-zero or takes longer than a minute. The demo is one of them.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';

const examples = readdirSync('examples')
  .filter((name) => name.endsWith('.ts'))
  .sort();

let failed = 0;
for (const name of examples) {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['--loader', 'ts-node/esm', '--no-warnings', `examples/${name}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', PLUGWIRE_EXAMPLE_SMOKE: '1' },
      // Its own process group: a timed-out example is killed with every plugin it started, so
      // no orphan keeps the output pipes (and this runner) open.
      detached: true,
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  const timer = setTimeout(killGroup, 60_000);
  const code = await new Promise((resolve) =>
    child.on('exit', (c, signal) => resolve(c ?? signal)),
  );
  clearTimeout(timer);
  killGroup(); // anything the example left behind
  child.stdout.destroy();
  child.stderr.destroy();
  const ok = code === 0;
  if (!ok) failed++;
  console.log(`${ok ? 'ok' : 'FAILED'}  examples/${name}  (${Date.now() - started} ms)`);
  if (!ok)
    console.log(
      output
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n'),
    );
}
console.log(`examples: ${examples.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
