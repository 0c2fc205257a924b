/**
 * Tracing of calls: what the pipeline tells a tracer, and an OpenTelemetry implementation.
 *
 * The pipeline only knows the three small interfaces below. With no tracer configured it calls
 * nothing at all (it checks `tracer !== undefined` once per call), so tracing costs nothing when
 * off. `@opentelemetry/api` is an optional peer, loaded by {@link createOtelTracer} only.
 */
import type { Context, Span, TextMapPropagator, Tracer } from '@opentelemetry/api';
import { ErrorCode, type PluginError } from '../errors.js';
import { loadOtelApi, otelPropagator, otelTracer, type OtelApi } from './otelApi.js';
import { outcomeOfCode, type Outcome } from './outcome.js';
import type { OtelPropagatorLike, OtelTracerLike } from './peerTypes.js';

/** Traces calls; given to the manager as `new Manager({ tracer })`. */
export interface CallTracer {
  /**
   * One `execute()` call begins. `call.requestId` is read only when the span is recorded (the
   * pipeline generates ids lazily).
   */
  startCall(target: string, call: { readonly requestId: string }): CallSpan;
}

/** One traced call. */
export interface CallSpan {
  /** An attempt of the call begins on `plugin` (1 for the first, 2 for the first retry, …). */
  startAttempt(plugin: string, group: string | undefined, attempt: number): AttemptSpan;
  /** The call settled: with its response (no error) or with `error`. Called once. */
  end(error?: PluginError): void;
}

/** One traced attempt. */
export interface AttemptSpan {
  /**
   * Headers that carry the trace to the plugin (W3C `traceparent`, `tracestate`), merged into the
   * headers the plugin receives: HTTP headers, gRPC metadata, the `headers` of Unix/exec envelopes.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The attempt ended. Called once. */
  end(outcome: Outcome, error?: PluginError): void;
}

/** Where a {@link guardTracer} tells what a tracer threw (the manager: its `error` event). */
export type TracerFault = (error: unknown, where: string) => void;

/**
 * `tracer` with every call into it guarded, so that a tracer that throws never fails, retries,
 * leaks or hangs a call: what it threw goes to `onFault`, and the call goes on untraced where
 * the span could not be had. The manager wraps the tracer it is given in this.
 */
export function guardTracer(tracer: CallTracer, onFault: TracerFault): CallTracer {
  return {
    startCall(target, call) {
      try {
        return new GuardedCallSpan(tracer.startCall(target, call), onFault);
      } catch (error) {
        onFault(error, 'CallTracer.startCall');
        return NOOP_CALL_SPAN;
      }
    },
  };
}

class GuardedCallSpan implements CallSpan {
  constructor(
    private readonly span: CallSpan,
    private readonly onFault: TracerFault,
  ) {}

  startAttempt(plugin: string, group: string | undefined, attempt: number): AttemptSpan {
    try {
      const span = this.span.startAttempt(plugin, group, attempt);
      return new GuardedAttemptSpan(span, span.headers, this.onFault);
    } catch (error) {
      this.onFault(error, 'CallSpan.startAttempt');
      return NOOP_ATTEMPT_SPAN;
    }
  }

  end(error?: PluginError): void {
    try {
      this.span.end(error);
    } catch (thrown) {
      this.onFault(thrown, 'CallSpan.end');
    }
  }
}

class GuardedAttemptSpan implements AttemptSpan {
  constructor(
    private readonly span: AttemptSpan,
    readonly headers: Readonly<Record<string, string>>,
    private readonly onFault: TracerFault,
  ) {}

  end(outcome: Outcome, error?: PluginError): void {
    try {
      this.span.end(outcome, error);
    } catch (thrown) {
      this.onFault(thrown, 'AttemptSpan.end');
    }
  }
}

/** Options of {@link createOtelTracer}. */
export interface OtelTracerOptions {
  /**
   * The OpenTelemetry `Tracer` to use. Default: `trace.getTracer(name)` from the global tracer
   * provider.
   */
  tracer?: OtelTracerLike | undefined;
  /** Tracer name when `tracer` is not given. Default `plugwire`. */
  name?: string | undefined;
  /**
   * Injects the trace context into headers: an OpenTelemetry `TextMapPropagator`. Default: the
   * global propagator (W3C with the SDK).
   */
  propagator?: OtelPropagatorLike | undefined;
}

/**
 * An OpenTelemetry {@link CallTracer}: a span per call (`plugwire.execute <target>`, INTERNAL,
 * child of the active span) and a child span per attempt (`plugwire.attempt <plugin>`, CLIENT)
 * whose context travels to the plugin in W3C trace-context headers.
 *
 * ```ts
 * const manager = new Manager({ tracer: await createOtelTracer() });
 * ```
 *
 * Set up the OpenTelemetry SDK (tracer provider, propagator, context manager) before the first
 * call; with no SDK the global API is a no-op and so is this tracer.
 *
 * @throws PluginError `PLUGIN_1000` when `@opentelemetry/api` is not installed.
 */
export async function createOtelTracer(options: OtelTracerOptions = {}): Promise<CallTracer> {
  const api = await loadOtelApi('createOtelTracer()');
  return new OtelCallTracer(
    api,
    options.tracer ? otelTracer(options.tracer) : api.trace.getTracer(options.name ?? 'plugwire'),
    options.propagator ? otelPropagator(options.propagator) : api.propagation,
  );
}

/** The subset of `TextMapPropagator` (and of `propagation`) that injects. */
type Injector = Pick<TextMapPropagator, 'inject'>;

class OtelCallTracer implements CallTracer {
  constructor(
    readonly api: OtelApi,
    readonly tracer: Tracer,
    readonly propagator: Injector,
  ) {}

  startCall(target: string, call: { readonly requestId: string }): CallSpan {
    const parent = this.api.context.active();
    const span = this.tracer.startSpan(
      `plugwire.execute ${target}`,
      { kind: this.api.SpanKind.INTERNAL, attributes: { 'plugwire.target': target } },
      parent,
    );
    if (span.isRecording()) {
      span.setAttribute('plugwire.request_id', call.requestId);
    } else if (!this.api.trace.isSpanContextValid(span.spanContext())) {
      // No SDK and no incoming trace: nothing is recorded or propagated, so skip the rest.
      return NOOP_CALL_SPAN;
    }
    return new OtelCallSpan(this, span, this.api.trace.setSpan(parent, span));
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NOOP_ATTEMPT_SPAN: AttemptSpan = Object.freeze({ headers: NO_HEADERS, end() {} });
const NOOP_CALL_SPAN: CallSpan = Object.freeze({
  startAttempt: () => NOOP_ATTEMPT_SPAN,
  end() {},
});

class OtelCallSpan implements CallSpan {
  constructor(
    private readonly owner: OtelCallTracer,
    private readonly span: Span,
    private readonly context: Context,
  ) {}

  startAttempt(plugin: string, group: string | undefined, attempt: number): AttemptSpan {
    const { api, tracer, propagator } = this.owner;
    const span = tracer.startSpan(
      `plugwire.attempt ${plugin}`,
      {
        kind: api.SpanKind.CLIENT,
        attributes:
          group === undefined
            ? { 'plugwire.plugin': plugin, 'plugwire.attempt': attempt }
            : { 'plugwire.plugin': plugin, 'plugwire.group': group, 'plugwire.attempt': attempt },
      },
      this.context,
    );
    const headers: Record<string, string> = {};
    propagator.inject(api.trace.setSpan(this.context, span), headers, api.defaultTextMapSetter);
    return new OtelAttemptSpan(api, span, headers);
  }

  end(error?: PluginError): void {
    const span = this.span;
    if (error === undefined) {
      span.setAttribute('plugwire.outcome', 'success');
    } else {
      span.setAttributes({
        'plugwire.outcome': outcomeOfCode(error.code),
        'plugwire.error_code': error.code,
        'plugwire.attempts': error.attempts,
        'error.type': error.code,
      });
      // The plugin's own "no" is an answer, not an error of the call (like an HTTP 4xx).
      if (error.code !== ErrorCode.ApplicationError) {
        span.setStatus({ code: this.owner.api.SpanStatusCode.ERROR, message: error.message });
      }
    }
    span.end();
  }
}

class OtelAttemptSpan implements AttemptSpan {
  constructor(
    private readonly api: OtelApi,
    private readonly span: Span,
    readonly headers: Readonly<Record<string, string>>,
  ) {}

  end(outcome: Outcome, error?: PluginError): void {
    const span = this.span;
    span.setAttribute('plugwire.outcome', outcome);
    if (error !== undefined) {
      span.setAttributes({ 'plugwire.error_code': error.code, 'error.type': error.code });
    }
    // Failures and timeouts are errors of this attempt; an answer "no" or an abort by the caller
    // (or by the call's end) say nothing about the plugin.
    if (outcome === 'failure' || outcome === 'timeout') {
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error?.message });
    }
    span.end();
  }
}
