import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import {
  mkdirSync,
  openSync,
  closeSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { isConfigError } from '../errors.js';
import { tempDir } from '../../test/support/tmp.js';
import { watchConfigFile, type WatchConfigOptions } from './watch.js';

const DEBOUNCE = 50;
const WAIT_LIMIT = 3_000;

/** Records what the watcher reports and lets a test wait for it, within a bounded time. */
class Recorder {
  readonly texts: string[] = [];
  readonly errors: Error[] = [];
  private wake: (() => void) | undefined;

  readonly onChange = (text: string): void => {
    this.texts.push(text);
    this.wake?.();
  };

  readonly onError = (error: Error): void => {
    this.errors.push(error);
    this.wake?.();
  };

  /** Waits until `done()` holds, failing after WAIT_LIMIT. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_LIMIT;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        assert.fail(`timed out waiting for ${what}; changes: ${JSON.stringify(this.texts)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  changes(count: number): Promise<void> {
    return this.until(() => this.texts.length >= count, `${count} change(s)`);
  }
}

let tmp: { dir: string; remove(): void };
let stops: Array<() => void>;

beforeEach(() => {
  tmp = tempDir('plugwire-watch-');
  stops = [];
});

afterEach(() => {
  for (const stop of stops) stop();
  tmp.remove();
});

function watchWith(
  path: string,
  recorder: Recorder,
  options: Partial<WatchConfigOptions> = {},
): () => void {
  const stop = watchConfigFile(path, {
    debounceMs: DEBOUNCE,
    poll: 0, // the event path alone must do it; polling has its own test
    onChange: recorder.onChange,
    onError: recorder.onError,
    ...options,
  });
  stops.push(stop);
  return stop;
}

// A later, different write whose delivery proves that nothing else was delivered before it.
async function sentinel(path: string, recorder: Recorder): Promise<void> {
  const count = recorder.texts.length;
  await sleep(DEBOUNCE * 2);
  writeFileSync(path, 'sentinel: true\n');
  await recorder.changes(count + 1);
}

describe('watchConfigFile', () => {
  test('delivers the new text of a file written in place', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    writeFileSync(path, 'version: 2\n');
    await recorder.changes(1);
    assert.deepEqual(recorder.texts, ['version: 2\n']);
    assert.deepEqual(recorder.errors, []);
  });

  test('follows a rename-on-save (temp file renamed over the original)', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    for (const version of [2, 3]) {
      const temp = join(tmp.dir, `.plugins.yaml.${version}.swp`);
      writeFileSync(temp, `version: ${version}\n`);
      renameSync(temp, path);
      await recorder.changes(version - 1);
    }
    assert.deepEqual(recorder.texts, ['version: 2\n', 'version: 3\n']);
  });

  test('delivers a truncate-then-write burst once, with the final content', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, 0);
      for (const part of ['plugins:\n', '  - name: a\n', '    transport: http\n']) {
        await sleep(5);
        writeSync(fd, part);
      }
    } finally {
      closeSync(fd);
    }
    await recorder.changes(1);
    await sentinel(path, recorder);
    assert.deepEqual(recorder.texts, [
      'plugins:\n  - name: a\n    transport: http\n',
      'sentinel: true\n',
    ]);
  });

  test('stays silent when the file is touched or rewritten with the same content', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    const later = new Date(Date.now() + 60_000);
    utimesSync(path, later, later);
    await sleep(DEBOUNCE * 2);
    writeFileSync(path, 'version: 1\n');
    await sentinel(path, recorder);
    assert.deepEqual(recorder.texts, ['sentinel: true\n']);
  });

  test('ignores other files changing in the same directory', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    writeFileSync(join(tmp.dir, 'other.yaml'), 'x: 1\n');
    await sentinel(path, recorder);
    assert.deepEqual(recorder.texts, ['sentinel: true\n']);
  });

  test('picks up a Kubernetes ConfigMap update (atomic ..data symlink swap)', async () => {
    const dir = tmp.dir;
    const path = join(dir, 'plugins.yaml');
    let version = 0;
    // What the kubelet does: a new timestamped directory, `..data_tmp` pointing at it, renamed
    // over `..data`, then the old directory removed.
    const publish = (text: string): void => {
      const stamp = `..2026_0${++version}`;
      mkdirSync(join(dir, stamp));
      writeFileSync(join(dir, stamp, 'plugins.yaml'), text);
      if (version === 1) {
        symlinkSync(stamp, join(dir, '..data'));
        symlinkSync('..data/plugins.yaml', path);
        return;
      }
      symlinkSync(stamp, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, `..2026_0${version - 1}`), { recursive: true });
    };
    publish('version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    publish('version: 2\n');
    await recorder.changes(1);
    publish('version: 3\n');
    await recorder.changes(2);
    assert.deepEqual(recorder.texts, ['version: 2\n', 'version: 3\n']);
    assert.deepEqual(recorder.errors, []);
  });

  test('follows a symlinked file edited in its target directory', async () => {
    const target = join(tmp.dir, 'real');
    const links = join(tmp.dir, 'links');
    mkdirSync(target);
    mkdirSync(links);
    writeFileSync(join(target, 'plugins.yaml'), 'version: 1\n');
    const path = join(links, 'plugins.yaml');
    symlinkSync(join(target, 'plugins.yaml'), path);
    const recorder = new Recorder();
    watchWith(path, recorder);
    writeFileSync(join(target, 'plugins.yaml.tmp'), 'version: 2\n');
    renameSync(join(target, 'plugins.yaml.tmp'), join(target, 'plugins.yaml'));
    await recorder.changes(1);
    assert.deepEqual(recorder.texts, ['version: 2\n']);
  });

  test('does not report a file that is missing only briefly', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    unlinkSync(path);
    await sleep(5);
    writeFileSync(path, 'version: 2\n');
    await recorder.changes(1);
    await sentinel(path, recorder);
    assert.deepEqual(recorder.texts, ['version: 2\n', 'sentinel: true\n']);
    assert.deepEqual(recorder.errors, []);
  });

  test('retries a read that fails once before reporting it', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    // The first read (one debounce after the removal) fails; the file is back before the retry.
    watchWith(path, recorder, { debounceMs: 200 });
    unlinkSync(path);
    await sleep(300);
    writeFileSync(path, 'version: 2\n');
    await recorder.changes(1);
    assert.deepEqual(recorder.texts, ['version: 2\n']);
    assert.deepEqual(recorder.errors, []);
  });

  test('reports a file that stays missing once, then delivers it when it returns', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder);
    unlinkSync(path);
    await recorder.until(() => recorder.errors.length > 0, 'an error');
    const [error] = recorder.errors;
    assert.ok(isConfigError(error));
    assert.match(error.message, /cannot read the file \(ENOENT\)/);
    writeFileSync(join(tmp.dir, 'unrelated'), 'x'); // another event while still missing
    await sleep(DEBOUNCE * 3);
    writeFileSync(path, 'version: 2\n');
    await recorder.changes(1);
    assert.deepEqual(recorder.texts, ['version: 2\n']);
    assert.equal(recorder.errors.length, 1);
  });

  test('never overlaps onChange calls: a change during a slow one is delivered after it', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    let running = 0;
    let overlapped = false;
    let release: (() => void) | undefined;
    watchWith(path, recorder, {
      onChange: async (text) => {
        running++;
        overlapped ||= running > 1;
        recorder.onChange(text);
        if (text === 'version: 2\n') await new Promise<void>((resolve) => (release = resolve));
        running--;
      },
    });
    writeFileSync(path, 'version: 2\n');
    await recorder.changes(1);
    writeFileSync(path, 'version: 3\n');
    await sleep(DEBOUNCE * 3);
    assert.deepEqual(recorder.texts, ['version: 2\n'], 'the second change waits for the first');
    release!();
    await recorder.changes(2);
    assert.deepEqual(recorder.texts, ['version: 2\n', 'version: 3\n']);
    assert.equal(overlapped, false);
  });

  test('reports an onChange that throws and keeps watching', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    watchWith(path, recorder, {
      onChange: (text) => {
        recorder.onChange(text);
        if (text === 'version: 2\n') throw new Error('invalid config');
      },
    });
    writeFileSync(path, 'version: 2\n');
    await recorder.until(() => recorder.errors.length > 0, 'an error');
    assert.equal(recorder.errors[0]?.message, 'invalid config');
    writeFileSync(path, 'version: 3\n');
    await recorder.changes(2);
    assert.deepEqual(recorder.texts, ['version: 2\n', 'version: 3\n']);
  });

  test('reads the file within a bounded time even while its directory never goes quiet', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    // A longer debounce than elsewhere, so that the noise below is always far denser than it.
    watchWith(path, recorder, { debounceMs: 200 });
    writeFileSync(path, 'version: 2\n');
    // A sibling written more often than the debounce would push a plain debounce back forever.
    const noisy = join(tmp.dir, 'app.log');
    let deliveredDuringNoise = false;
    const deadline = Date.now() + WAIT_LIMIT;
    for (let i = 0; Date.now() < deadline; i++) {
      writeFileSync(noisy, `line ${i}\n`);
      if (recorder.texts.length > 0) {
        deliveredDuringNoise = true;
        break;
      }
      await sleep(10);
    }
    assert.equal(deliveredDuringNoise, true);
    assert.deepEqual(recorder.texts, ['version: 2\n']);
  });

  test('finds by polling a file whose directory appears after watching started', async () => {
    const dir = join(tmp.dir, 'later');
    const path = join(dir, 'plugins.yaml');
    const recorder = new Recorder();
    watchWith(path, recorder, { poll: 20 });
    mkdirSync(dir);
    writeFileSync(path, 'version: 1\n');
    await recorder.changes(1);
    // Once found, its directory is watched: later changes arrive through events as well.
    writeFileSync(path, 'version: 2\n');
    await recorder.changes(2);
    assert.deepEqual(recorder.texts, ['version: 1\n', 'version: 2\n']);
    assert.deepEqual(recorder.errors, []);
  });

  test('delivers nothing after stop(), and stop() can be called twice', async () => {
    const path = join(tmp.dir, 'plugins.yaml');
    writeFileSync(path, 'version: 1\n');
    const recorder = new Recorder();
    const stop = watchWith(path, recorder, { poll: 10 });
    writeFileSync(path, 'version: 2\n');
    stop(); // while a check is pending
    stop();
    unlinkSync(path);
    await sleep(DEBOUNCE * 4);
    assert.deepEqual(recorder.texts, []);
    assert.deepEqual(recorder.errors, []);
  });

  test('stop() closes every watcher and timer it opened', async () => {
    const live = new Map<number, string>();
    const hook = createHook({
      init(id, type) {
        if (type === 'FSEVENTWRAP' || type === 'Timeout') live.set(id, type);
      },
      destroy(id) {
        live.delete(id);
      },
    });
    const dir = join(tmp.dir, 'real');
    mkdirSync(dir);
    writeFileSync(join(dir, 'plugins.yaml'), 'version: 1\n');
    const path = join(tmp.dir, 'plugins.yaml');
    symlinkSync(join(dir, 'plugins.yaml'), path); // two directories watched
    const recorder = new Recorder();
    hook.enable();
    let opened: string[];
    try {
      const stop = watchConfigFile(path, {
        debounceMs: DEBOUNCE,
        poll: 1_000,
        onChange: recorder.onChange,
        onError: recorder.onError,
      });
      writeFileSync(join(dir, 'plugins.yaml'), 'version: 2\n');
      await sleep(1); // let the event arrive and start the debounce timer
      opened = [...live.values()];
      stop();
      // Close callbacks and destroy hooks run asynchronously; the immediate lets the destroy of
      // this sleep's own timer run too.
      await sleep(20);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      hook.disable();
    }
    assert.deepEqual(
      opened.filter((type) => type === 'FSEVENTWRAP'),
      ['FSEVENTWRAP', 'FSEVENTWRAP'],
    );
    // The poll timer at least (the test's own sleep timer is counted too, so no more is claimed).
    assert.ok(opened.filter((type) => type === 'Timeout').length >= 2, 'the poll timer was open');
    assert.deepEqual([...live.values()], []);
  });
});
