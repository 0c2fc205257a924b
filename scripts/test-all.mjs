// `npm test`: every check CI runs, in three phases so that the 2 cores of CI stay busy:
//   1. type check, format check and build, side by side (the type check is tsc on
//      tsconfig.test.json: it also emits the compiled test tree .test-build/, see
//      scripts/test-build.mjs, so the tests need no compile of their own);
//   2. the unit and integration tests (node's test runner on .test-build/, 2 files at a time);
//   3. the examples, the API docs check, the CommonJS require, the bin from a fresh install and
//      the consumer projects compiled from the packed tarball, side by side (the examples mostly
//      wait).
// Each step's output is printed whole when it ends, under its name. The first failing phase
// stops the run; its exit status is 1.
import { spawn } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(scripts) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('sh', ['-c', scripts.map((s) => `${npm} run --silent ${s}`).join(' && ')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `\n== ${scripts.join(' → ')}: ${code === 0 ? 'ok' : 'FAILED'} (${seconds} s)\n`,
      );
      process.stdout.write(output);
      resolve(code === 0);
    });
  });
}

const phases = [
  [['test:build'], ['format:check'], ['build']],
  [['test:unit']],
  [
    ['test:examples', 'docs:check'],
    ['test:cjs', 'test:bin', 'test:consumers'],
  ],
];

for (const phase of phases) {
  const results = await Promise.all(phase.map(run));
  if (results.includes(false)) {
    console.log('\nnpm test: FAILED');
    process.exit(1);
  }
}
console.log('\nnpm test: every step passed');
