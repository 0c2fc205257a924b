// Compiled (never run) when the optional peers are installed: their own objects are accepted
// where plugwire asks for a registry, a tracer or a propagator (plugwire declares those types
// structurally, so that its declarations compile without the peers too).
import { propagation, trace } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { Manager, collectPrometheus, createOtelTracer, type PrometheusCollector } from 'plugwire';
import { createServerTracer, type ServeUnixOptions, type ServerTracer } from 'plugwire/sdk';

export async function withPeers(
  manager: Manager,
): Promise<[PrometheusCollector, ServerTracer, ServeUnixOptions]> {
  const tracer = trace.getTracer('consumer');
  const traced = new Manager({
    tracer: await createOtelTracer({ tracer, propagator: propagation }),
  });
  await traced.shutdown();
  const serverTracer = await createServerTracer({ tracer, propagator: propagation });
  const unix: ServeUnixOptions = { path: 'plugin.sock', tracing: { tracer } };
  const collector = await collectPrometheus(manager, { registry: new Registry(), prefix: 'c_' });
  return [collector, serverTracer, unix];
}
