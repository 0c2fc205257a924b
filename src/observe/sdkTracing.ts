/**
 * The plugin side of tracing: continue the host's trace in a SERVER span around each request.
 * `@opentelemetry/api` is an optional peer, loaded once by {@link createServerTracer}.
 */
import type { TextMapPropagator, Tracer } from '@opentelemetry/api';
import { isApplicationError, redactSecrets } from '../errors.js';
import { loadOtelApi, otelPropagator, otelTracer, type OtelApi } from './otelApi.js';
import type { OtelPropagatorLike, OtelTracerLike } from './peerTypes.js';
import { errorMessage } from '../internal/errorMessage.js';

/** Options of {@link createServerTracer}. */
export interface ServerTracingOptions {
  /**
   * The OpenTelemetry `Tracer` to use. Default: `trace.getTracer(name)` from the global tracer
   * provider.
   */
  tracer?: OtelTracerLike | undefined;
  /** Tracer name when `tracer` is not given. Default `plugwire-plugin`. */
  name?: string | undefined;
  /**
   * Extracts the trace context from headers: an OpenTelemetry `TextMapPropagator`. Default: the
   * global propagator.
   */
  propagator?: OtelPropagatorLike | undefined;
}

/** Runs request handlers inside spans that continue the host's trace. */
export interface ServerTracer {
  /**
   * Runs `fn` inside a SERVER span `plugwire.handle <handlerName>` whose parent is the trace
   * context found in `headers` (W3C `traceparent`/`tracestate`, as the host sends them over every
   * transport). The span is active while `fn` runs, so the handler's own spans nest under it.
   * A throw from `fn` marks the span as an error (unless it is an `applicationError`) and is
   * rethrown.
   */
  withServerSpan<T>(
    handlerName: string,
    headers: Readonly<Record<string, string>>,
    fn: () => T | Promise<T>,
    requestId?: string,
  ): Promise<T>;
}

/**
 * An OpenTelemetry {@link ServerTracer}. Load it once when the plugin starts serving, not per
 * request.
 *
 * @throws PluginError `PLUGIN_1000` when `@opentelemetry/api` is not installed.
 */
export async function createServerTracer(
  options: ServerTracingOptions = {},
): Promise<ServerTracer> {
  const api = await loadOtelApi('plugin tracing');
  return new OtelServerTracer(
    api,
    options.tracer
      ? otelTracer(options.tracer)
      : api.trace.getTracer(options.name ?? 'plugwire-plugin'),
    options.propagator ? otelPropagator(options.propagator) : api.propagation,
  );
}

let defaultTracer: Promise<ServerTracer> | undefined;

/**
 * {@link ServerTracer.withServerSpan} with the global tracer provider and propagator, for a
 * plugin written without the SDK's `serve*` functions.
 */
export async function withServerSpan<T>(
  handlerName: string,
  headers: Readonly<Record<string, string>>,
  fn: () => T | Promise<T>,
  requestId?: string,
): Promise<T> {
  defaultTracer ??= createServerTracer();
  return (await defaultTracer).withServerSpan(handlerName, headers, fn, requestId);
}

class OtelServerTracer implements ServerTracer {
  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
    private readonly propagator: Pick<TextMapPropagator, 'extract'>,
  ) {}

  async withServerSpan<T>(
    handlerName: string,
    headers: Readonly<Record<string, string>>,
    fn: () => T | Promise<T>,
    requestId?: string,
  ): Promise<T> {
    const api = this.api;
    const parent = this.propagator.extract(api.context.active(), headers, api.defaultTextMapGetter);
    const span = this.tracer.startSpan(
      `plugwire.handle ${handlerName}`,
      {
        kind: api.SpanKind.SERVER,
        attributes: requestId === undefined ? {} : { 'plugwire.request_id': requestId },
      },
      parent,
    );
    try {
      const value = await api.context.with(api.trace.setSpan(parent, span), fn);
      span.setAttribute('plugwire.outcome', 'success');
      return value;
    } catch (error) {
      if (isApplicationError(error)) {
        span.setAttribute('plugwire.outcome', 'application_error');
      } else {
        span.setAttribute('plugwire.outcome', 'failure');
        span.setStatus({
          code: api.SpanStatusCode.ERROR,
          message: redactSecrets(errorMessage(error)),
        });
      }
      throw error;
    } finally {
      span.end();
    }
  }
}

/** A resolved tracer and the name of the handler it traces: what `runHandler` is given. */
export interface HandlerTracing {
  tracer: ServerTracer;
  name: string;
}

/**
 * Resolves the SDK's `tracing` serve option once per server: undefined when tracing is off (the
 * default, and then requests pay nothing), else the tracer and the handler's name (`info.name`).
 */
export async function handlerTracing(options: {
  tracing?: boolean | ServerTracingOptions | undefined;
  info?: { name: string } | undefined;
}): Promise<HandlerTracing | undefined> {
  const { tracing } = options;
  if (tracing === undefined || tracing === false) return undefined;
  const tracer = await createServerTracer(tracing === true ? {} : tracing);
  return { tracer, name: options.info?.name ?? 'plugin' };
}
