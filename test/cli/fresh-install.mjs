// The `plugwire` command on a fresh install: packs this package (dist/ must be built: npm test
// builds first), installs the tarball into an empty project in a temp dir, and runs the bin
// the way users do (`npx plugwire …`), checking exit statuses and output.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const dir = mkdtempSync(join(tmpdir(), 'plugwire-bin-'));
try {
  const tarball = execFileSync(
    npm,
    ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir],
    { encoding: 'utf8' },
  ).trim();
  const project = join(dir, 'project');
  execFileSync('mkdir', [project]);
  writeFileSync(join(project, 'package.json'), '{"name":"fresh","version":"1.0.0","private":true}');
  execFileSync(
    npm,
    ['install', join(dir, tarball), '--prefer-offline', '--no-audit', '--no-fund', '--silent'],
    { cwd: project, stdio: 'inherit' },
  );
  const bin = join(project, 'node_modules', '.bin', 'plugwire');
  assert.ok(statSync(bin).mode & 0o111, 'the bin is not executable');

  const secret = 'fresh-install-secret-0123456789';
  writeFileSync(
    join(project, 'good.yaml'),
    `plugins:\n  - name: a\n    transport: http\n    endpoint: http://a.internal/\n    auth: { method: bearer, token: "${secret}" }\n`,
  );
  writeFileSync(
    join(project, 'bad.yaml'),
    `plugins:\n  - name: a\n    transport: http\n    endpoint: http://a.internal/\n    auth: { method: bearer, token: "${secret}", tokn: 1 }\n`,
  );
  const run = (...args) =>
    spawnSync(npm, ['exec', '--no', '--', 'plugwire', ...args], { cwd: project, encoding: 'utf8' });

  const good = run('validate', 'good.yaml');
  assert.equal(good.status, 0, good.stderr);
  assert.equal(good.stdout, 'good.yaml: valid (1 plugin, 0 groups)\n');
  const bad = run('validate', 'bad.yaml', '--json');
  assert.equal(bad.status, 1, bad.stderr);
  assert.equal(JSON.parse(bad.stdout).problems[0].path, 'plugins[0].auth.tokn');
  for (const output of [good.stdout, good.stderr, bad.stdout, bad.stderr]) {
    assert.ok(!output.includes(secret), 'the bin printed a secret');
  }
  const help = run('diff', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: plugwire diff <old> <new>/);
  console.log('plugwire bin from a fresh install: ok');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
