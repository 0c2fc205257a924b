import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  BasicTracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { Manager } from '../../src/manager.js';
import { ErrorCode, PluginError, applicationError } from '../../src/errors.js';
import { createServerTracer } from '../../src/observe/sdkTracing.js';
import { createOtelTracer, type CallTracer } from '../../src/observe/tracing.js';
import { serveHttp, type ServeHttpOptions } from '../../src/sdk/http.js';
import type { Handler, HandlerContext } from '../../src/sdk/types.js';

// ---------- an SDK that records every span in memory ----------

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const propagator = new W3CTraceContextPropagator();
const contextManager = new AsyncLocalStorageContextManager();

before(() => {
  // Only the context manager is global (the active span follows async calls); the tracers and
  // the propagator are passed explicitly.
  context.setGlobalContextManager(contextManager.enable());
});
beforeEach(() => exporter.reset());

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  context.disable();
  await provider.shutdown();
});

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

function hostTracer(): Promise<CallTracer> {
  return createOtelTracer({ tracer: provider.getTracer('host'), propagator });
}

function spanNamed(name: string): ReadableSpan {
  const spans = exporter.getFinishedSpans().filter((s) => s.name === name);
  assert.equal(spans.length, 1, `one span named ${name}`);
  return spans[0]!;
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/**
 * A manager with the `tracer` option and an HTTP plugin served with the SDK's `tracing` option.
 * The options are built as variables (not literals) so that this file compiles whether or not
 * those options exist yet; once wired, `{ tracer }` can be passed directly.
 */
async function tracedHttpPlugin<Req, Resp>(
  handler: Handler<Req, Resp>,
  tracer: CallTracer | undefined,
  pluginOptions: Record<string, unknown> = {},
) {
  const serveOptions = {
    info: { name: 'echo' },
    tracing: { tracer: provider.getTracer('plugin'), propagator },
  };
  const served = await serveHttp(handler, serveOptions as ServeHttpOptions);
  cleanups.push(() => served.close());
  const managerOptions = { builtinTransports: true, tracer };
  const manager = new Manager<Req, Resp>(managerOptions);
  cleanups.push(() => manager.shutdown());
  await manager.load({
    plugins: [
      {
        name: 'echo',
        transport: 'http',
        endpoint: served.endpoint,
        healthCheck: { enabled: false },
        ...pluginOptions,
      },
    ],
  });
  return manager;
}

// ---------- the host-side adapter on its own ----------

describe('createOtelTracer', () => {
  test('opens an INTERNAL call span and CLIENT attempt spans under it', async () => {
    const tracer = await hostTracer();
    const call = tracer.startCall('payments', { requestId: 'req-1' });
    const attempt = call.startAttempt('vault-a', 'payments', 1);
    attempt.end('success');
    call.end();
    const callSpan = spanNamed('plugwire.execute payments');
    const attemptSpan = spanNamed('plugwire.attempt vault-a');
    assert.equal(callSpan.kind, SpanKind.INTERNAL);
    assert.equal(attemptSpan.kind, SpanKind.CLIENT);
    assert.equal(parentOf(attemptSpan), callSpan.spanContext().spanId);
    assert.deepEqual(callSpan.attributes, {
      'plugwire.target': 'payments',
      'plugwire.request_id': 'req-1',
      'plugwire.outcome': 'success',
    });
    assert.deepEqual(attemptSpan.attributes, {
      'plugwire.plugin': 'vault-a',
      'plugwire.group': 'payments',
      'plugwire.attempt': 1,
      'plugwire.outcome': 'success',
    });
    assert.equal(callSpan.status.code, SpanStatusCode.UNSET);
  });

  test('gives each attempt W3C headers that name the attempt span as parent', async () => {
    const tracer = await hostTracer();
    const call = tracer.startCall('payments', { requestId: 'req-1' });
    const attempt = call.startAttempt('vault-a', undefined, 1);
    const match = TRACEPARENT.exec(attempt.headers.traceparent ?? '');
    attempt.end('success');
    call.end();
    assert.ok(match, `traceparent: ${attempt.headers.traceparent}`);
    const attemptSpan = spanNamed('plugwire.attempt vault-a');
    assert.equal(match[1], attemptSpan.spanContext().traceId);
    assert.equal(match[2], attemptSpan.spanContext().spanId);
  });

  test('makes the call span a child of the span active when execute() is called', async () => {
    const tracer = await hostTracer();
    const outer = provider.getTracer('app').startSpan('http GET /checkout');
    context.with(trace.setSpan(context.active(), outer), () => {
      tracer.startCall('payments', { requestId: 'req-1' }).end();
    });
    outer.end();
    assert.equal(parentOf(spanNamed('plugwire.execute payments')), outer.spanContext().spanId);
  });

  test('marks failed and timed-out attempts as errors, with their code', async () => {
    const tracer = await hostTracer();
    const call = tracer.startCall('payments', { requestId: 'req-1' });
    const error = new PluginError(ErrorCode.PluginConnectionFailed, 'connection refused');
    call.startAttempt('a', undefined, 1).end('failure', error);
    const timeout = new PluginError(ErrorCode.PluginTimeout, 'too slow');
    call.startAttempt('b', undefined, 2).end('timeout', timeout);
    call.end(timeout);
    const first = spanNamed('plugwire.attempt a');
    assert.equal(first.status.code, SpanStatusCode.ERROR);
    assert.equal(first.status.message, 'connection refused');
    assert.equal(first.attributes['plugwire.error_code'], ErrorCode.PluginConnectionFailed);
    assert.equal(spanNamed('plugwire.attempt b').attributes['plugwire.outcome'], 'timeout');
    const callSpan = spanNamed('plugwire.execute payments');
    assert.equal(callSpan.status.code, SpanStatusCode.ERROR);
    assert.equal(callSpan.attributes['plugwire.outcome'], 'timeout');
  });

  test('does not mark the plugin\'s own answer "no" or an abort as an error', async () => {
    const tracer = await hostTracer();
    const call = tracer.startCall('payments', { requestId: 'req-1' });
    const no = applicationError('insufficient funds');
    call.startAttempt('a', undefined, 1).end('application_error', no);
    call.startAttempt('b', undefined, 2).end('aborted');
    call.end(no);
    assert.equal(spanNamed('plugwire.attempt a').status.code, SpanStatusCode.UNSET);
    assert.equal(spanNamed('plugwire.attempt b').status.code, SpanStatusCode.UNSET);
    const callSpan = spanNamed('plugwire.execute payments');
    assert.equal(callSpan.status.code, SpanStatusCode.UNSET);
    assert.equal(callSpan.attributes['plugwire.outcome'], 'application_error');
  });
});

// ---------- the plugin-side adapter on its own ----------

describe('createServerTracer', () => {
  test('continues the trace found in the headers in an active SERVER span', async () => {
    const host = await hostTracer();
    const call = host.startCall('payments', { requestId: 'req-1' });
    const attempt = call.startAttempt('vault-a', undefined, 1);
    const server = await createServerTracer({ tracer: provider.getTracer('plugin'), propagator });
    const active = await server.withServerSpan(
      'vault',
      attempt.headers,
      async () => trace.getActiveSpan()?.spanContext().spanId,
      'req-1',
    );
    attempt.end('success');
    call.end();
    const serverSpan = spanNamed('plugwire.handle vault');
    assert.equal(serverSpan.kind, SpanKind.SERVER);
    assert.equal(active, serverSpan.spanContext().spanId, 'the handler runs inside the span');
    assert.equal(parentOf(serverSpan), spanNamed('plugwire.attempt vault-a').spanContext().spanId);
    assert.equal(serverSpan.attributes['plugwire.request_id'], 'req-1');
  });

  test('starts a new trace when the headers carry none', async () => {
    const server = await createServerTracer({ tracer: provider.getTracer('plugin'), propagator });
    await server.withServerSpan('vault', {}, () => 'ok');
    assert.equal(parentOf(spanNamed('plugwire.handle vault')), undefined);
  });

  test('records a throw as an error and rethrows it; an applicationError is not an error', async () => {
    const server = await createServerTracer({ tracer: provider.getTracer('plugin'), propagator });
    await assert.rejects(
      server.withServerSpan('broken', {}, () => {
        throw new Error('disk full');
      }),
      /disk full/,
    );
    await assert.rejects(
      server.withServerSpan('picky', {}, () => {
        throw applicationError('no such customer');
      }),
      /no such customer/,
    );
    const broken = spanNamed('plugwire.handle broken');
    assert.equal(broken.status.code, SpanStatusCode.ERROR);
    assert.equal(broken.status.message, 'disk full');
    const picky = spanNamed('plugwire.handle picky');
    assert.equal(picky.status.code, SpanStatusCode.UNSET);
    assert.equal(picky.attributes['plugwire.outcome'], 'application_error');
  });
});

// ---------- end to end: host → HTTP → plugin ----------

describe('a traced call through an HTTP plugin', () => {
  // Needs the wiring: Manager option `tracer`, SDK serve option `tracing` (see the report).
  test('yields host and plugin spans in one trace: call → attempt → plugin server span', async () => {
    const manager = await tracedHttpPlugin(async (n: number) => n * 2, await hostTracer());
    assert.equal(await manager.execute('echo', 21), 42);
    const callSpan = spanNamed('plugwire.execute echo');
    const attemptSpan = spanNamed('plugwire.attempt echo');
    const serverSpan = spanNamed('plugwire.handle echo');
    const traceId = callSpan.spanContext().traceId;
    assert.equal(attemptSpan.spanContext().traceId, traceId);
    assert.equal(serverSpan.spanContext().traceId, traceId);
    assert.equal(parentOf(attemptSpan), callSpan.spanContext().spanId);
    assert.equal(parentOf(serverSpan), attemptSpan.spanContext().spanId);
    assert.equal(serverSpan.kind, SpanKind.SERVER);
  });

  // Needs the wiring.
  test('gives a retried call one attempt span per attempt, the failed one marked', async () => {
    let calls = 0;
    const manager = await tracedHttpPlugin(
      async (n: number) => {
        if (calls++ === 0) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return n;
      },
      await hostTracer(),
      { retry: { maxRetries: 2, initialInterval: '1ms' }, idempotent: true },
    );
    assert.equal(await manager.execute('echo', 7), 7);
    const attempts = exporter
      .getFinishedSpans()
      .filter((s) => s.name === 'plugwire.attempt echo')
      .sort(
        (a, b) =>
          Number(a.attributes['plugwire.attempt']) - Number(b.attributes['plugwire.attempt']),
      );
    assert.deepEqual(
      attempts.map((s) => [s.attributes['plugwire.attempt'], s.attributes['plugwire.outcome']]),
      [
        [1, 'failure'],
        [2, 'success'],
      ],
    );
    assert.equal(attempts[0]!.status.code, SpanStatusCode.ERROR);
    const callSpan = spanNamed('plugwire.execute echo');
    for (const a of attempts) assert.equal(parentOf(a), callSpan.spanContext().spanId);
    assert.equal(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER).length, 2);
  });

  // Needs the wiring.
  test("keeps the caller's own headers next to the trace context", async () => {
    let seen: HandlerContext['headers'] | undefined;
    const manager = await tracedHttpPlugin(
      async (n: number, ctx: HandlerContext) => {
        seen = ctx.headers;
        return n;
      },
      await hostTracer(),
    );
    await manager.execute('echo', 1, { headers: { 'x-tenant': 'acme' } });
    assert.equal(seen?.['x-tenant'], 'acme');
    assert.match(seen?.traceparent ?? '', TRACEPARENT);
  });

  test('sends no trace context when the manager has no tracer', async () => {
    let seen: HandlerContext['headers'] | undefined;
    const manager = await tracedHttpPlugin(async (n: number, ctx: HandlerContext) => {
      seen = ctx.headers;
      return n;
    }, undefined);
    await manager.execute('echo', 1);
    assert.ok(seen !== undefined);
    assert.equal(seen.traceparent, undefined);
    assert.equal(
      exporter.getFinishedSpans().filter((s) => s.name.startsWith('plugwire.execute')).length,
      0,
    );
  });
});
