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
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise((resolve) =>
    child.on('close', (c, signal) => resolve(c ?? signal)),
  );
  clearTimeout(timer);
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
