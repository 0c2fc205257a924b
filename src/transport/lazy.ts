import { ErrorCode, PluginError } from '../errors.js';
import type { ExecutionContext, HealthStatus, Plugin, PluginInfo } from '../types.js';
import { errorMessage } from '../internal/errorMessage.js';

/**
 * A transport's implementation, imported on first need: `import 'plugwire'` loads no transport
 * dependency (undici, @grpc/grpc-js); the manager awaits {@link LazyModule.load} (a factory's
 * `prepare()`) before it creates a plugin of that transport, so that `create()` stays
 * synchronous and its errors come where they always came.
 */
export class LazyModule<M> {
  private module: M | undefined;
  private loading: Promise<M> | undefined;

  /**
   * @param transport the transport names, for the error message
   * @param packages the npm packages the implementation imports: a missing one is named
   * @param code the error code of the transport's errors
   * @param importer `() => import('./plugin.js')`
   */
  constructor(
    private readonly transport: string,
    private readonly packages: readonly string[],
    private readonly code: ErrorCode,
    private readonly importer: () => Promise<M>,
  ) {}

  /** The module, once {@link load} has resolved. */
  get loaded(): M | undefined {
    return this.module;
  }

  /** Imports the implementation once; rejects with a PluginError naming a missing package. */
  load(): Promise<M> {
    if (this.module !== undefined) return Promise.resolve(this.module);
    this.loading ??= this.importer().then(
      (module) => (this.module = module),
      (error: unknown) => {
        this.loading = undefined; // a later call may find the package installed
        throw this.explain(error);
      },
    );
    return this.loading;
  }

  private explain(error: unknown): unknown {
    const code = (error as { code?: unknown } | undefined)?.code;
    const message = errorMessage(error);
    const missing = this.packages.find((name) => message.includes(`'${name}'`));
    if (code !== 'ERR_MODULE_NOT_FOUND' || missing === undefined) return error;
    return new PluginError(
      this.code,
      `transport "${this.transport}" needs the package ${missing}, which cannot be loaded: npm install ${missing}`,
      { cause: error, details: { package: missing } },
    );
  }
}

/**
 * A plugin whose transport implementation was not imported yet when it was created (a factory
 * used without its `prepare()`): it imports it on `start()` or on the first call, then hands
 * everything to the real plugin. The manager prepares factories first, so it never sees one.
 */
export class LazyPlugin<Req, Resp> implements Plugin<Req, Resp> {
  private real: Plugin<Req, Resp> | undefined;
  private creating: Promise<Plugin<Req, Resp>> | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly create: () => Promise<Plugin<Req, Resp>>,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    const real = await this.plugin();
    await real.start?.(signal);
  }

  async info(signal?: AbortSignal): Promise<PluginInfo> {
    return (await this.plugin()).info(signal);
  }

  execute(request: Req, ctx: ExecutionContext): Promise<Resp> {
    const real = this.real;
    if (real !== undefined) return real.execute(request, ctx);
    return this.plugin().then((plugin) => plugin.execute(request, ctx));
  }

  async health(signal: AbortSignal): Promise<HealthStatus> {
    return (await this.plugin()).health(signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.creating === undefined) return;
    const real = await this.creating.catch(() => undefined);
    await real?.close();
  }

  private plugin(): Promise<Plugin<Req, Resp>> {
    if (this.real !== undefined) return Promise.resolve(this.real);
    if (this.closed) {
      return Promise.reject(
        new PluginError(ErrorCode.PluginClosed, `Plugin '${this.name}' is closed`, {
          plugin: this.name,
        }),
      );
    }
    this.creating ??= this.create().then((real) => (this.real = real));
    return this.creating;
  }
}
