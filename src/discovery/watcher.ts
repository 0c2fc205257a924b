import { Debouncer } from '../reload/debounce.js';
import { DirectoryWatches } from '../reload/directoryWatches.js';
import { asError } from '../internal/errorMessage.js';

/** Options of {@link DiscoveryWatcher}. */
export interface DiscoveryWatcherOptions {
  /** Quiet time after the last event before `onChange` runs. */
  debounceMs: number;
  /** Also run `onChange` every `poll` ms (0 = never), for mounts whose events are unreliable. */
  poll: number;
  /** The directories to watch now (the scanned ones, plugin folders, symlink targets). */
  directories: () => ReadonlySet<string>;
  /** Rescans and applies; never overlaps itself. */
  onChange: () => Promise<void>;
  onError: (error: Error) => void;
}

/**
 * Watches the discovery directories with the config watcher's pieces: directory watches that
 * survive rename-on-save and Kubernetes `..data` symlink swaps, and a debouncer whose runs never
 * overlap. After each run the set of watched directories follows what the scan found.
 */
export class DiscoveryWatcher {
  private readonly watches: DirectoryWatches;
  private readonly debouncer: Debouncer;
  private readonly pollTimer: NodeJS.Timeout | undefined;
  private readonly reported = new Set<string>();

  constructor(private readonly options: DiscoveryWatcherOptions) {
    this.debouncer = new Debouncer(options.debounceMs, async () => {
      try {
        await options.onChange();
      } catch (error) {
        options.onError(asError(error));
      } finally {
        this.resync();
      }
    });
    this.watches = new DirectoryWatches(
      () => this.debouncer.schedule(),
      (directory, error) => {
        const key = `${directory}:${String(error)}`;
        if (this.reported.has(key)) return;
        this.reported.add(key);
        options.onError(
          new Error(
            `Cannot watch ${directory} for plugins (${String(error)}); it is rescanned every ${options.poll} ms`,
          ),
        );
      },
    );
    this.resync();
    if (options.poll > 0) {
      this.pollTimer = setInterval(() => this.debouncer.schedule(), options.poll);
      this.pollTimer.unref();
    }
  }

  /** Asks for a rescan (debounced). */
  schedule(): void {
    this.debouncer.schedule();
  }

  stop(): void {
    this.debouncer.stop();
    clearInterval(this.pollTimer);
    this.watches.close();
  }

  private resync(): void {
    this.watches.sync(this.options.directories());
  }
}
