/**
 * The third side of the transport benchmark: the manager's own transport plugin, created by its
 * built-in factory with the manager's config and called directly, without the pipeline. Between
 * the bare client and `manager.execute()`, it tells the transport's cost from the pipeline's.
 */
import { randomUUID } from 'node:crypto';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import type { PluginConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/observe/logger.js';
import { builtinFactories } from '../../src/transport/builtin.js';
import type { Cancellation, ExecutionContext, Plugin } from '../../src/types.js';
import type { RawClient } from './raw.js';

const NO_ENTRIES: Readonly<Record<string, string>> = Object.freeze({});

/** A cancellation that never fires: the direct side has no deadline timer or caller signal. */
const NEVER: Cancellation = {
  aborted: false,
  reason: undefined,
  addEventListener() {},
  removeEventListener() {},
};

/** What the pipeline hands a plugin for one attempt, with nothing behind it. */
class DirectContext implements ExecutionContext {
  readonly cancellation = NEVER;
  readonly requestId = randomUUID();
  readonly deadline: number;
  readonly attempt = 1;
  readonly operation = undefined;
  readonly headers = NO_ENTRIES;
  readonly metadata = NO_ENTRIES;
  #signal: AbortSignal | undefined;

  constructor(timeoutMs: number) {
    this.deadline = Date.now() + timeoutMs;
  }

  get signal(): AbortSignal {
    return (this.#signal ??= new AbortController().signal);
  }
}

/** A plugin's config as the benchmark writes it: the sections it sets are partial. */
export type DirectFields = Pick<PluginConfig, 'name' | 'transport'> &
  Partial<Omit<PluginConfig, 'connection' | 'startup'>> & {
    connection?: Partial<PluginConfig['connection']>;
    startup?: Partial<PluginConfig['startup']>;
  };

/** A built-in transport plugin called directly, one {@link DirectContext} per call. */
export class DirectPlugin implements RawClient {
  readonly #plugin: Plugin;
  readonly #timeoutMs: number;

  private constructor(plugin: Plugin, timeoutMs: number) {
    this.#plugin = plugin;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Creates and starts the plugin the factory for `fields.transport` makes of `fields` (durations
   * in ms; `connection` and `startup` are merged over the defaults, as the manager's config is).
   */
  static async start(fields: DirectFields): Promise<DirectPlugin> {
    const defaults = pluginConfig({ name: fields.name, transport: fields.transport });
    const config = pluginConfig({
      ...fields,
      connection: { ...defaults.connection, ...fields.connection },
      startup: { ...defaults.startup, ...fields.startup },
    });
    const factory = builtinFactories().find((f) => f.transports.includes(config.transport));
    if (!factory) throw new Error(`no built-in transport ${config.transport}`);
    const plugin = factory.create(config, { codec: jsonCodec, logger: silentLogger });
    await plugin.start?.(AbortSignal.timeout(config.startup.timeout));
    return new DirectPlugin(plugin, config.connection.requestTimeout);
  }

  call(request: unknown): Promise<unknown> {
    return this.#plugin.execute(request, new DirectContext(this.#timeoutMs));
  }

  close(): Promise<void> {
    return this.#plugin.close();
  }
}
