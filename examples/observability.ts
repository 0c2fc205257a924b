/**
 * Observability: Prometheus metrics served on `/metrics` next to the Kubernetes probes, a logger,
 * and events. An HTTP plugin (served with the SDK) is called a few times, `/metrics` is fetched
 * once and a few lines are printed, then everything shuts down.
 * Run: node --loader ts-node/esm examples/observability.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { Manager, collectPrometheus, createProbeHandler } from '../src/index.js';
import { serveHttp } from '../src/sdk/index.js';
import { textTools, type TextRequest, type TextResponse } from './plugins/text-tools.js';

// The plugin: any transport works the same; HTTP here.
const plugin = await serveHttp(textTools('observability example'), { info: { name: 'text' } });

// The host: console satisfies the Logger interface (pino does too). Debug lines are dropped here.
const logger = { ...console, debug: () => undefined };
const manager = new Manager<TextRequest, TextResponse>({ logger });
manager.on('health-change', (e) => console.log(`event: ${e.plugin} health ${e.from} -> ${e.to}`));
manager.on('circuit-open', (e) => console.log(`event: circuit of ${e.plugin} opened`));

// Metrics in a registry of our own (the default is prom-client's global one). Register before
// load() so that the first startup attempts are counted.
const registry = new Registry();
const metrics = await collectPrometheus(manager, { registry, labels: { service: 'example' } });

// One port for probes and metrics: the probe handler passes other paths to `next`.
const probes = createProbeHandler(manager);
const server = createServer((req, res) => {
  probes(req, res, () => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
});
server.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

await manager.load({
  plugins: [
    {
      name: 'text',
      transport: 'http',
      endpoint: plugin.endpoint,
      retry: { maxRetries: 1, initialInterval: '10ms' },
    },
  ],
});

await manager.execute('text', { op: 'upper', text: 'hello' });
await manager.execute('text', { op: 'words', text: 'one two three' });
await manager.execute('text', { op: 'upper', text: '' }).catch(() => undefined); // answers "no"

console.log(`GET /readyz -> ${(await fetch(`${base}/readyz`)).status}`);
const exposition = await (await fetch(`${base}/metrics`)).text();
const interesting = /^plugwire_(requests_total|ready|in_flight|health_status\{.*status="healthy")/;
console.log('GET /metrics (a few lines):');
for (const line of exposition.split('\n').filter((l) => interesting.test(l))) {
  console.log(`  ${line}`);
}

metrics.stop();
await new Promise((resolve) => server.close(resolve));
await manager.shutdown();
await plugin.close();
