import type { ManagerConfig, PluginConfig } from '../config/types.js';
import { redactSecrets } from '../errors.js';
import type { PluginSlot } from '../pipeline/PluginSlot.js';
import type { ConfigDiff } from './diff.js';
import { errorMessage } from '../internal/errorMessage.js';

/**
 * How a plugin that must be recreated is replaced:
 * - `rolling` (default): the new instance starts beside the old one and must pass its startup
 *   (start + first health check); then the name is swapped to it atomically and the old one is
 *   drained and closed. If the new one fails, the old one keeps serving and the result says why.
 * - `graceful`: the old instance gets no new calls, its calls in flight may finish within
 *   `drainTimeoutMs`, then it is closed and the new one started. Calls arriving meanwhile wait
 *   for the new one within their deadline.
 * - `recreate`: the old instance is closed at once (its attempts in flight are interrupted and
 *   retried on the new one) and the new one started; the quickest, and the roughest.
 */
export type ReloadStrategy = 'rolling' | 'graceful' | 'recreate';

/** Options of `manager.reload()` and `manager.watch()`. */
export interface ReloadOptions {
  /** Default `rolling`. */
  strategy?: ReloadStrategy | undefined;
  /** How long calls in flight on an old or removed instance may run on. Default 30 000 ms. */
  drainTimeoutMs?: number | undefined;
}

/** What one reload did. */
export interface ReloadResult {
  strategy: ReloadStrategy;
  /** What changed (names and field paths; no values). */
  diff: ConfigDiff;
  /** Plugins started anew. */
  added: string[];
  /** Plugins drained and closed. */
  removed: string[];
  /** Plugins whose changes were applied to the live instance. */
  applied: string[];
  /** Plugins replaced by a new instance. */
  recreated: string[];
  /** Plugins whose new instance failed: the old one keeps serving (rolling) or the error is given. */
  rolledBack: Array<{ name: string; reason: string }>;
  /** Added plugins that could not even be created (their transport refused the config). */
  failed: Array<{ name: string; reason: string }>;
  /** Wall time of each plugin's step, ms. */
  timings: Record<string, number>;
  durationMs: number;
}

/** One step of a reload, as the `reload-step` event reports it. */
export interface ReloadStep {
  plugin: string;
  action: 'added' | 'removed' | 'applied' | 'recreated' | 'rolled-back' | 'failed';
  changes?: string[] | undefined;
  reason?: string | undefined;
}

/** What the reload needs from the manager: the runtime slots and their lifecycle. */
export interface ReloadRuntime {
  slot(name: string): PluginSlot | undefined;
  /** Creates an instance for `config`, not routed yet. */
  create(config: PluginConfig): PluginSlot;
  /** Routes `slot` under its name (and in its group). */
  add(slot: PluginSlot): void;
  /** Routes the name of `old` to `next` at once. */
  swap(old: PluginSlot, next: PluginSlot): void;
  /** Stops routing to `slot` (its name and group). */
  remove(slot: PluginSlot): void;
  /** Startup attempts; resolves when the slot is ready or its attempts ran out. */
  start(slot: PluginSlot): Promise<void>;
  /** Waits for the calls on `slot`, then ends the rest (interrupted for retry when `replaced`). */
  drain(slot: PluginSlot, timeoutMs: number, replaced: boolean): Promise<void>;
  /** Marks `slot` draining (no new calls). */
  retire(slot: PluginSlot): void;
  /** Stops checks and closes the plugin (connections, processes). */
  close(slot: PluginSlot): Promise<void>;
  /** Applies a config to a live slot (changes it can take in place). */
  configure(slot: PluginSlot, config: PluginConfig): Promise<void>;
  /** Applies the group, readiness and budget settings of `next`. */
  settings(next: ManagerConfig, diff: ConfigDiff): void;
  step(step: ReloadStep): void;
}

/**
 * Applies a validated diff to the running plugins. Removals first (freeing names and
 * processes), then additions, in-place updates and replacements side by side. Never throws for
 * one plugin's failure: it is reported in the result.
 */
export async function applyReload(
  runtime: ReloadRuntime,
  next: ManagerConfig,
  diff: ConfigDiff,
  options: ReloadOptions = {},
): Promise<ReloadResult> {
  const started = performance.now();
  const strategy = options.strategy ?? 'rolling';
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const configs = new Map(next.plugins.map((plugin) => [plugin.name, plugin]));
  const result: ReloadResult = {
    strategy,
    diff,
    added: [],
    removed: [],
    applied: [],
    recreated: [],
    rolledBack: [],
    failed: [],
    timings: {},
    durationMs: 0,
  };
  const timed = async (name: string, work: () => Promise<void>): Promise<void> => {
    const t = performance.now();
    await work();
    result.timings[name] = Math.round(performance.now() - t);
  };

  runtime.settings(next, diff);

  await Promise.all(
    diff.removed.map((name) =>
      timed(name, async () => {
        const slot = runtime.slot(name);
        if (slot === undefined) return;
        runtime.remove(slot);
        runtime.retire(slot);
        await runtime.drain(slot, drainTimeoutMs, false);
        await runtime.close(slot);
        result.removed.push(name);
        runtime.step({ plugin: name, action: 'removed' });
      }),
    ),
  );

  const steps: Array<Promise<void>> = [];
  for (const name of diff.added) {
    steps.push(
      timed(name, async () => {
        let slot: PluginSlot;
        try {
          slot = runtime.create(configs.get(name)!);
        } catch (error) {
          const reason = redactSecrets(errorMessage(error));
          result.failed.push({ name, reason });
          runtime.step({ plugin: name, action: 'failed', reason });
          return;
        }
        runtime.add(slot);
        await runtime.start(slot);
        result.added.push(name);
        runtime.step({ plugin: name, action: 'added' });
      }),
    );
  }
  for (const update of diff.updated) {
    const config = configs.get(update.name)!;
    const old = runtime.slot(update.name);
    if (old === undefined) continue;
    steps.push(
      timed(update.name, async () => {
        if (update.mode === 'in-place') {
          await runtime.configure(old, config);
          result.applied.push(update.name);
          runtime.step({ plugin: update.name, action: 'applied', changes: update.changes });
          return;
        }
        const failure = await replace(runtime, old, config, strategy, drainTimeoutMs);
        if (failure === undefined) {
          result.recreated.push(update.name);
          runtime.step({ plugin: update.name, action: 'recreated', changes: update.changes });
        } else {
          result.rolledBack.push({ name: update.name, reason: failure });
          runtime.step({ plugin: update.name, action: 'rolled-back', reason: failure });
        }
      }),
    );
  }
  await Promise.all(steps);
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

/** Replaces `old` by a new instance for `config`. Returns why it failed, or undefined. */
async function replace(
  runtime: ReloadRuntime,
  old: PluginSlot,
  config: PluginConfig,
  strategy: ReloadStrategy,
  drainTimeoutMs: number,
): Promise<string | undefined> {
  let next: PluginSlot;
  try {
    next = runtime.create(config);
  } catch (error) {
    return redactSecrets(errorMessage(error));
  }
  if (strategy === 'rolling') {
    await runtime.start(next);
    if (next.state !== 'ready') {
      const reason = `the new instance did not start: ${next.lastError ?? next.state}`;
      await runtime.close(next);
      return reason;
    }
    runtime.swap(old, next);
    runtime.retire(old);
    await runtime.drain(old, drainTimeoutMs, true);
    await runtime.close(old);
    return undefined;
  }
  // graceful and recreate: the new instance takes the name now; calls wait for its start.
  runtime.swap(old, next);
  runtime.retire(old);
  await runtime.drain(old, strategy === 'graceful' ? drainTimeoutMs : 0, true);
  await runtime.close(old);
  await runtime.start(next);
  return next.state === 'ready'
    ? undefined
    : `the new instance did not start: ${next.lastError ?? next.state}`;
}
