import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, Manager, isPluginError, type ManagerEvents } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { QUICK, pluginScript, sha256, until, writePlugin } from './support.js';

interface Reply {
  label: string;
  pid: number;
  args: string[];
  cwd: string;
}

const tmp = tempDir('plugwire-discovery-');
after(() => tmp.remove());

function record<K extends keyof ManagerEvents>(manager: Manager, name: K): Array<ManagerEvents[K]> {
  const seen: Array<ManagerEvents[K]> = [];
  manager.on(name, (event) => seen.push(event));
  return seen;
}

function folder(...parts: string[]): string {
  const path = join(tmp.dir, ...parts);
  mkdirSync(path, { recursive: true, mode: 0o755 });
  chmodSync(path, 0o755);
  return path;
}

describe('plugin discovery', () => {
  test('plugins in two directories, a bare binary and manifest-described ones, all load and answer', async (t) => {
    const first = folder('two-a');
    const second = folder('two-b');
    writePlugin(join(first, 'plugin-alpha'), 'alpha');
    writePlugin(join(first, 'helper-tool'), 'not-a-plugin'); // matches no pattern
    writeFileSync(join(first, 'README.md'), 'not a plugin');
    // A file with a manifest beside it.
    writePlugin(join(second, 'plugin-gamma'), 'gamma');
    writeFileSync(
      join(second, 'plugin-gamma.plugin.yaml'),
      'name: gamma\nargs: [--verbose]\nlabels: { team: search }\nweight: 3\n',
    );
    // A plugin folder with its manifest and its binary inside.
    const beta = folder('two-b', 'plugin-beta');
    writePlugin(join(beta, 'bin', 'run'), 'beta');
    writeFileSync(
      join(beta, 'plugin.yaml'),
      'name: beta\nexecutable: bin/run\nargs: [--mode=fast]\ngroup: tools\nretry: { max_retries: 1 }\n',
    );
    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    const discovered = record(manager, 'plugin-discovered');
    const result = await manager.load({
      defaults: QUICK,
      plugins: [],
      discovery: {
        enabled: true,
        directories: [first, second],
        patterns: ['plugin-*'],
        watch_mode: false,
      },
    });

    assert.deepEqual(result.plugins.map((p) => `${p.name}:${p.state}`).sort(), [
      'beta:ready',
      'gamma:ready',
      'plugin-alpha:ready',
    ]);
    assert.deepEqual(discovered.map((e) => e.plugin).sort(), ['beta', 'gamma', 'plugin-alpha']);
    const alpha = await manager.execute('plugin-alpha', {});
    assert.equal(alpha.label, 'alpha');
    const beta1 = await manager.execute('tools', {}); // beta is the one member of its group
    assert.equal(beta1.label, 'beta');
    assert.deepEqual(beta1.args, ['--mode=fast']);
    assert.equal(beta1.cwd, beta); // a folder plugin runs in its folder
    const gamma = await manager.execute('gamma', {});
    assert.deepEqual([gamma.label, gamma.args], ['gamma', ['--verbose']]);
    const snapshot = manager.plugins().find((p) => p.name === 'gamma')!;
    assert.equal(snapshot.weight, 3);
    // Policy sections of a manifest fall back to the config's defaults field by field.
    const betaConfig = manager.plugins().find((p) => p.name === 'beta')!;
    assert.equal(betaConfig.group, 'tools');
    // Found at the first load: they are the initial set.
    const report = manager.readiness();
    assert.equal(report.ready, true);
    assert.deepEqual(Object.keys(report.initial.plugins).sort(), ['beta', 'gamma', 'plugin-alpha']);
    assert.equal(report.runtime.total, 0);
  });

  test('a checksum mismatch, a world-writable file, an escaping symlink and a bad manifest are each refused; the others run', async (t) => {
    const dir = folder('refusals');
    const outside = folder('refusals-outside');
    const good = writePlugin(join(dir, 'plugin-good'), 'good');
    const tampered = writePlugin(join(dir, 'plugin-tampered'), 'tampered');
    writePlugin(join(dir, 'plugin-open'), 'open', 0o777);
    chmodSync(join(dir, 'plugin-open'), 0o777); // whatever the umask
    symlinkSync(writePlugin(join(outside, 'evil'), 'evil'), join(dir, 'plugin-escape'));
    writePlugin(join(dir, 'plugin-bad'), 'bad');
    writeFileSync(
      join(dir, 'plugin-bad.plugin.yaml'),
      'weight: -1\nretry: { maxRetries: lots }\ncolour: blue\n',
    );
    writePlugin(join(dir, 'plugin-broken'), 'broken');
    writeFileSync(join(dir, 'plugin-broken.plugin.yaml'), 'name: [unclosed\n');
    writePlugin(join(dir, 'plugin-sneaky'), 'sneaky');
    writeFileSync(join(dir, 'plugin-sneaky.plugin.yaml'), `executable: ../refusals-outside/evil\n`);

    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    const rejected = record(manager, 'plugin-rejected');
    const result = await manager.load({
      defaults: QUICK,
      plugins: [],
      discovery: {
        enabled: true,
        directories: [dir],
        patterns: ['plugin-*'],
        checksums: {
          'plugin-good': sha256(good),
          [tampered]: sha256(good), // the tampered binary is not the one the host trusts
        },
      },
    });

    // The good one runs, untouched by the others.
    assert.equal((await manager.execute('plugin-good', {})).label, 'good');
    const states = Object.fromEntries(result.plugins.map((p) => [p.name, p]));
    assert.deepEqual(Object.keys(states).sort(), ['plugin-good', 'plugin-tampered']);

    // Checksum mismatch: refused right before the spawn, shown failed with the reason.
    assert.equal(states['plugin-tampered']!.state, 'failed');
    assert.match(
      states['plugin-tampered']!.error!,
      /SHA-256 of .*plugin-tampered .* does not match/,
    );
    await assert.rejects(manager.execute('plugin-tampered', {}), (error) => isPluginError(error));
    const byPath = (end: string) => rejected.filter((r) => r.path.endsWith(end));
    assert.ok(byPath('plugin-tampered').length >= 1);
    assert.equal(byPath('plugin-tampered')[0]!.code, ErrorCode.PluginVerificationFailed);

    // Scan-time refusals: one event each, with a reason that says what to fix.
    const [open] = byPath('plugin-open');
    assert.equal(open?.code, ErrorCode.PluginVerificationFailed);
    assert.match(open!.reason, /writable by others \(mode 777\); run chmod go-w/);
    const [escape] = byPath('plugin-escape');
    assert.equal(escape?.code, ErrorCode.PluginVerificationFailed);
    assert.match(escape!.reason, /leads outside/);
    const [bad] = byPath('plugin-bad.plugin.yaml');
    assert.equal(bad?.code, ErrorCode.InvalidConfig);
    for (const path of ['weight', 'retry\\.maxRetries', 'colour']) {
      assert.match(bad!.reason, new RegExp(`- ${path}: `), path);
    }
    const [broken] = byPath('plugin-broken.plugin.yaml');
    assert.match(broken!.reason, /line \d+: not valid YAML/);
    const [sneaky] = byPath('plugin-sneaky.plugin.yaml');
    assert.match(sneaky!.reason, /executable: .*leads outside/);
    assert.equal(sneaky!.code, ErrorCode.PluginVerificationFailed);
  });

  test('with requireChecksums, a binary missing from the sums file is refused and a listed one runs', async (t) => {
    const dir = folder('sums');
    const listed = writePlugin(join(dir, 'plugin-listed'), 'listed');
    writePlugin(join(dir, 'plugin-unlisted'), 'unlisted');
    const sums = join(folder('sums-trusted'), 'SHA256SUMS');
    writeFileSync(sums, `# trusted builds\n${sha256(listed)}  plugin-listed\n`);
    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    const result = await manager.load({
      defaults: QUICK,
      plugins: [],
      discovery: { enabled: true, directories: [dir], sums_file: sums, require_checksums: true },
    });
    const states = Object.fromEntries(result.plugins.map((p) => [p.name, p]));
    assert.equal(states['plugin-listed']!.state, 'ready');
    assert.equal((await manager.execute('plugin-listed', {})).label, 'listed');
    assert.equal(states['plugin-unlisted']!.state, 'failed');
    assert.match(states['plugin-unlisted']!.error!, /no trusted SHA-256 .*requireChecksums is on/);
    // Both start attempts were refused (and the background attempts since).
    assert.ok((manager.metrics().discovery?.refused ?? 0) >= 2);
    assert.ok((manager.metrics().discovery?.verified ?? 0) >= 1);
  });

  test('a restart checks the binary again: one tampered with after the start is refused', async (t) => {
    const dir = folder('restart');
    const binary = writePlugin(join(dir, 'plugin-guarded'), 'guarded');
    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    const rejected = record(manager, 'plugin-rejected');
    await manager.load({
      defaults: QUICK,
      plugins: [],
      discovery: {
        enabled: true,
        directories: [dir],
        checksums: { 'plugin-guarded': sha256(binary) },
      },
    });
    const { pid } = await manager.execute('plugin-guarded', {});
    // Rewritten in place (no watch mode here), then the running process dies: the supervisor's
    // restart must not run what is on disk now.
    writeFileSync(binary, pluginScript('tampered'));
    process.kill(pid, 'SIGKILL');
    await until(() => assert.equal(rejected.length, 1), 10_000);
    assert.equal(rejected[0]!.plugin, 'plugin-guarded');
    assert.equal(rejected[0]!.code, ErrorCode.PluginVerificationFailed);
    assert.match(rejected[0]!.reason, /does not match the one trusted in discovery\.checksums/);
    await until(() => {
      const health = manager.health()['plugin-guarded']!;
      assert.equal(health.status, 'offline');
      assert.match(health.message ?? '', /last start failed: Refusing to run 'plugin-guarded'/);
    }, 10_000);
    await assert.rejects(manager.execute('plugin-guarded', {}, { timeoutMs: 1_000 }));
    assert.equal(rejected.length, 1); // later restarts are refused without a new report
  });

  test('a discovered plugin may not take a configured name: it is refused, the config is not', async (t) => {
    const dir = folder('names');
    writePlugin(join(dir, 'plugin-taken'), 'discovered');
    writePlugin(join(dir, 'plugin-free'), 'free');
    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    const rejected = record(manager, 'plugin-rejected');
    await manager.load({
      defaults: QUICK,
      plugins: [
        {
          name: 'plugin-taken',
          transport: 'exec',
          executable: writePlugin(join(folder('names-configured'), 'bin'), 'configured'),
        },
      ],
      discovery: { enabled: true, directories: [dir] },
    });
    assert.equal((await manager.execute('plugin-taken', {})).label, 'configured');
    assert.equal((await manager.execute('plugin-free', {})).label, 'free');
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!.code, ErrorCode.DuplicatePluginName);
    assert.match(rejected[0]!.reason, /already used by a configured plugin/);
  });
});
