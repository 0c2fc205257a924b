import type { PluginState } from '../states.js';

/** How one plugin's startup ended, as reported by `load()` and `register()`. */
export interface StartResult {
  name: string;
  state: PluginState;
  attempts: number;
  /** The last start attempt's error (redacted), when it failed. */
  error?: string | undefined;
}

/** What the pool reads from a plugin once it has started (a runtime slot). */
interface Started {
  readonly name: string;
  readonly state: PluginState;
  readonly startAttempts: number;
  readonly lastError: string | undefined;
}

/**
 * Starts `items` with at most `concurrency` at a time, in order; resolves with how each ended,
 * in the same order. `start` never rejects (a failed start is in the plugin's state).
 */
export async function startAll<T extends Started>(
  items: readonly T[],
  concurrency: number,
  start: (item: T) => Promise<void>,
): Promise<StartResult[]> {
  const results: StartResult[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index]!;
      await start(item);
      results[index] = {
        name: item.name,
        state: item.state,
        attempts: item.startAttempts,
        ...(item.lastError === undefined ? {} : { error: item.lastError }),
      };
    }
  };
  const workers = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
