import { createHash } from 'node:crypto';
import { realpathSync, readFileSync, statSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, ErrorCode, PluginError, errnoCode } from '../errors.js';
import { Debouncer } from './debounce.js';
import { DirectoryWatches } from './directoryWatches.js';
import { asError } from '../internal/errorMessage.js';

/** Options of {@link watchConfigFile}. */
export interface WatchConfigOptions {
  /**
   * Quiet time after the last filesystem event before the file is read, so that a file being
   * written is read once it is complete. Default 200 ms. Under a steady stream of events the
   * file is still read at least every 5 × `debounceMs`.
   */
  debounceMs?: number | undefined;
  /**
   * Called with the file's new text each time its content really changed (never for the content
   * it had when watching started). Calls never overlap: a change seen while one runs is
   * delivered after it settles. A rejection goes to `onError`.
   */
  onChange: (text: string) => void | Promise<void>;
  /**
   * Called when the file stays unreadable past one retry, when a directory cannot be watched,
   * or when `onChange` throws. Watching goes on.
   */
  onError: (error: Error) => void;
  /**
   * Also check the file every `poll` ms (a `stat`, and a read only when it changed), for
   * filesystems where change events are unreliable (NFS, some container mounts). Default
   * 2 000 ms; 0 turns it off.
   */
  poll?: number | undefined;
}

/**
 * Watches a config file and calls `onChange` with its text whenever its content changes.
 * Returns `stop()`, which ends watching at once (calling it again does nothing).
 *
 * It watches the file's directory, not the file, so that it survives what replaces a file
 * rather than writing it: an editor's rename-on-save (vim, JetBrains) and the atomic symlink
 * swap of a Kubernetes ConfigMap volume (`plugins.yaml -> ..data/plugins.yaml`, where `..data`
 * is renamed onto a new timestamped directory). Every event leads to a debounced read of the
 * path as it resolves now; `onChange` runs only when the content's hash differs from the last
 * one delivered, so a `touch`, an unrelated file in the directory or a swap to identical
 * content is silent. When the path is a symlink, the directory of its target is watched too.
 *
 * Nothing it holds keeps the process alive (watchers and timers are unref'd).
 */
export function watchConfigFile(path: string, options: WatchConfigOptions): () => void {
  const watcher = new ConfigFileWatcher(resolve(path), options);
  return () => watcher.stop();
}

class ConfigFileWatcher {
  private readonly onChange: WatchConfigOptions['onChange'];
  private readonly onError: WatchConfigOptions['onError'];
  private readonly debouncer: Debouncer;
  private readonly directories: DirectoryWatches;
  /** Directories that could not be watched (`/dir:ENOSPC`), so each is reported once. */
  private readonly watchProblems = new Set<string>();
  private readonly pollTimer: NodeJS.Timeout | undefined;
  private readonly pollMs: number;

  /** Hash of the content last delivered (or found at start); undefined while never read. */
  private lastHash: string | undefined;
  /** What the last read or poll saw (inode, size, times, or the error): polls compare it. */
  private lastSignature = '';
  private polling = false;
  private failures = 0;
  /** The read error last reported (`ENOENT`), so a lasting one is reported once. */
  private reportedReadError: string | undefined;
  private stopped = false;

  constructor(
    private readonly path: string,
    options: WatchConfigOptions,
  ) {
    this.debouncer = new Debouncer(Math.max(0, options.debounceMs ?? 200), () => this.check());
    this.directories = new DirectoryWatches(
      () => this.schedule(),
      (directory, error) => this.watchFailed(directory, error),
    );
    this.onChange = options.onChange;
    this.onError = options.onError;
    this.pollMs = Math.max(0, options.poll ?? 2_000);
    this.readBaseline();
    this.watchDirectories();
    if (this.pollMs > 0) {
      this.pollTimer = setInterval(() => void this.pollOnce(), this.pollMs);
      this.pollTimer.unref();
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.debouncer.stop();
    clearInterval(this.pollTimer);
    this.directories.close();
  }

  // Read synchronously, so that a change made right after watchConfigFile() returns is seen
  // as a change rather than taken as the starting content.
  private readBaseline(): void {
    try {
      this.lastHash = hash(readFileSync(this.path));
      this.lastSignature = signature(statSync(this.path));
    } catch (error) {
      this.lastSignature = `error:${errnoCode(error) ?? 'unknown'}`;
    }
  }

  /** Debounced check: each event pushes it back, up to 5 × debounceMs after the first one. */
  private schedule(): void {
    this.debouncer.schedule();
  }

  private async check(): Promise<void> {
    let content: Buffer;
    let stats: Stats;
    try {
      // One open handle for both, so the signature describes the bytes that were read.
      const handle = await open(this.path, 'r');
      try {
        stats = await handle.stat();
        content = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (error) {
      this.readFailed(error);
      return;
    } finally {
      // The path may now resolve through other directories (a ConfigMap swap, a relinked file).
      if (!this.stopped) this.watchDirectories();
    }
    if (this.stopped) return;
    this.failures = 0;
    this.reportedReadError = undefined;
    this.lastSignature = signature(stats);
    const contentHash = hash(content);
    if (contentHash === this.lastHash) return;
    this.lastHash = contentHash;
    try {
      await this.onChange(content.toString('utf8'));
    } catch (error) {
      this.report(asError(error));
    }
  }

  // A file replaced by rename or symlink swap can be missing for a moment: retry once after the
  // debounce, and report only when it is still unreadable then. Later events or polls retry.
  private readFailed(error: unknown): void {
    if (this.stopped) return;
    const code = errnoCode(error) ?? 'unknown';
    this.lastSignature = `error:${code}`;
    this.failures++;
    if (this.failures === 1) {
      this.schedule();
      return;
    }
    if (this.reportedReadError === code) return;
    this.reportedReadError = code;
    this.report(
      new ConfigError(
        [
          {
            path: '',
            message: `cannot read the file (${code}); the running config is kept and the file is checked again on its next change`,
            code: ErrorCode.InvalidConfig,
          },
        ],
        this.path,
        { cause: error },
      ),
    );
  }

  private async pollOnce(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      let seen: string;
      try {
        seen = signature(await stat(this.path));
      } catch (error) {
        seen = `error:${errnoCode(error) ?? 'unknown'}`;
      }
      if (seen !== this.lastSignature) {
        this.lastSignature = seen;
        this.schedule();
      }
    } finally {
      this.polling = false;
    }
  }

  /**
   * Watches the file's directory and, when the path is a symlink, its target's directory;
   * stops watching directories no longer involved and re-watches one that was replaced.
   */
  private watchDirectories(): void {
    const wanted = new Set([dirname(this.path)]);
    try {
      wanted.add(dirname(realpathSync(this.path)));
    } catch {
      // The file is missing right now: its own directory is enough to see it come back.
    }
    this.directories.sync(wanted);
  }

  private watchFailed(directory: string, error: unknown): void {
    if (this.stopped) return;
    const code = errnoCode(error) ?? 'unknown';
    const key = `${directory}:${code}`;
    if (this.watchProblems.has(key)) return;
    this.watchProblems.add(key);
    const fallback =
      this.pollMs > 0
        ? `changes are seen by polling every ${this.pollMs} ms`
        : 'changes may be missed (polling is off)';
    this.report(
      new PluginError(
        ErrorCode.InvalidConfig,
        `Cannot watch ${directory} for changes to ${this.path} (${code}); ${fallback}`,
        { retryable: false, cause: error, details: { path: this.path, directory } },
      ),
    );
  }

  private report(error: Error): void {
    if (this.stopped) return;
    try {
      this.onError(error);
    } catch {
      // An error handler that throws must not stop the watching.
    }
  }
}

function hash(content: Buffer): string {
  return createHash('sha256').update(content).digest('base64');
}

// stat() follows symlinks: this describes the file the path resolves to now.
function signature(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}
