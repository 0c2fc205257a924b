/**
 * The few shapes plugwire's public API takes from its optional peers, declared here rather than
 * imported from them: plugwire's type declarations then compile whether or not `prom-client` and
 * `@opentelemetry/api` are installed (with `skipLibCheck: false` too), and accept the objects of
 * any version of them in the supported ranges. The implementations use the peers' own types.
 * @module
 */

/**
 * An OpenTelemetry `Tracer` from `@opentelemetry/api` (`trace.getTracer('app')`), described by
 * the one method plugwire calls.
 */
export interface OtelTracerLike {
  startSpan(name: string, options?: unknown, context?: unknown): object;
}

/**
 * An OpenTelemetry `TextMapPropagator` (`propagation` from `@opentelemetry/api`, or a propagator
 * of the SDK), described by the methods plugwire calls: the host injects, a plugin extracts.
 */
export interface OtelPropagatorLike {
  inject(context: unknown, carrier: Record<string, string>, setter?: unknown): void;
  extract(context: unknown, carrier: Readonly<Record<string, string>>, getter?: unknown): object;
}

/** A prom-client `Registry` (`new Registry()`, or prom-client's global `register`). */
export interface PrometheusRegistryLike {
  registerMetric(metric: object): void;
  removeSingleMetric(name: string): void;
}
