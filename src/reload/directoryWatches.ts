import { statSync, watch, type FSWatcher } from 'node:fs';

/**
 * A set of watched directories, shared by the config file watcher and plugin discovery.
 *
 * Watching a directory rather than a file is what survives replacement: an editor's
 * rename-on-save and a Kubernetes volume's `..data` symlink swap both show up as events in the
 * directory. `sync(wanted)` watches exactly the directories given, closes the others, and
 * watches again a directory that was replaced (its inode changed). Watchers are not persistent
 * (they never keep the process alive).
 */
export class DirectoryWatches {
  private readonly watches = new Map<string, { watcher: FSWatcher; ino: number }>();
  private closed = false;

  /**
   * @param onEvent called on any event in any watched directory
   * @param onError called when a directory cannot be watched, or its watcher fails (it is then
   *   dropped, and watched again by the next `sync` that still wants it)
   */
  constructor(
    private readonly onEvent: () => void,
    private readonly onError: (directory: string, error: unknown) => void,
  ) {}

  sync(wanted: ReadonlySet<string>): void {
    if (this.closed) return;
    for (const [directory, entry] of this.watches) {
      if (!wanted.has(directory) || directoryIno(directory) !== entry.ino) {
        entry.watcher.close();
        this.watches.delete(directory);
      }
    }
    for (const directory of wanted) {
      if (!this.watches.has(directory)) this.watchDirectory(directory);
    }
  }

  close(): void {
    this.closed = true;
    for (const { watcher } of this.watches.values()) watcher.close();
    this.watches.clear();
  }

  private watchDirectory(directory: string): void {
    const ino = directoryIno(directory);
    if (ino === undefined) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(directory, { persistent: false }, () => this.onEvent());
    } catch (error) {
      this.onError(directory, error);
      return;
    }
    watcher.on('error', (error) => {
      watcher.close();
      if (this.watches.get(directory)?.watcher === watcher) this.watches.delete(directory);
      this.onError(directory, error);
    });
    this.watches.set(directory, { watcher, ino });
  }
}

/** The inode of a directory, or undefined when it is missing or not a directory. */
export function directoryIno(directory: string): number | undefined {
  try {
    const stats = statSync(directory);
    return stats.isDirectory() ? stats.ino : undefined;
  } catch {
    return undefined;
  }
}
