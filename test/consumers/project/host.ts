// A host and a plugin written as an installed user writes them: only the package's public entry
// points, compiled by the consumer matrix in ../packed.test.ts under each supported tsconfig
// (ESM and CommonJS output alike: no top-level await, no import.meta, no require).
import {
  ErrorCode,
  Manager,
  createProbeHandler,
  definePlugin,
  diffConfigs,
  isPluginError,
  parseConfig,
  type CallTracer,
  type ExecuteOptions,
  type ManagerConfig,
  type ManagerEvents,
  type PluginConfig,
  type PrometheusOptions,
  type ReadinessReport,
} from 'plugwire';
import {
  applicationError,
  serveHttp,
  type Handler,
  type ServeOptions,
  type ServedPlugin,
} from 'plugwire/sdk';

interface Req {
  text: string;
}
interface Resp {
  upper: string;
  requestId: string;
}

/** The plugin's one handler, served over HTTP by the SDK and run in-process by the host. */
const upper: Handler<Req, Resp> = (request, ctx) => {
  if (request.text === '') throw applicationError('text must not be empty');
  return { upper: request.text.toUpperCase(), requestId: ctx.requestId };
};

/** A tracer written against plugwire's own interfaces, with no OpenTelemetry installed. */
const spans: string[] = [];
const tracer: CallTracer = {
  startCall(target) {
    spans.push(`call ${target}`);
    return {
      startAttempt: (plugin, _group, attempt) => ({
        headers: { 'x-attempt': String(attempt) },
        end: (outcome) => void spans.push(`attempt ${plugin} ${outcome}`),
      }),
      end: (error) => void spans.push(`end ${error?.code ?? 'ok'}`),
    };
  },
};

export async function main(): Promise<Record<string, unknown>> {
  const serveOptions: ServeOptions = { info: { name: 'upper', version: '1.0.0' } };
  const served: ServedPlugin = await serveHttp(upper, { ...serveOptions, port: 0 });
  const manager = new Manager<Req, Resp>({ tracer });
  try {
    const config: ManagerConfig = parseConfig({
      plugins: [{ name: 'remote', transport: 'http', endpoint: served.endpoint }],
    });
    const remoteConfig: PluginConfig | undefined = config.plugins[0];
    await manager.load(config);
    await manager.register(
      definePlugin<Req, Resp>({
        name: 'local',
        execute: (request, ctx) =>
          upper(request, {
            signal: ctx.signal,
            deadline: ctx.deadline,
            requestId: ctx.requestId,
            headers: ctx.headers,
            metadata: ctx.metadata,
          }),
      }),
    );
    const ready: string[] = [];
    const onReady = (event: ManagerEvents['ready']): void => void ready.push(typeof event);
    manager.on('ready', onReady);
    await manager.whenReady({ timeoutMs: 10_000 });
    const report: ReadinessReport = manager.readiness();

    const options: ExecuteOptions = { timeoutMs: 5_000, requestId: 'req-1' };
    const remote = await manager.execute('remote', { text: 'over http' }, options);
    const local = await manager.execute('local', { text: 'in process' });
    const refused: unknown = await manager.execute('local', { text: '' }).catch((e: unknown) => e);
    const refusedCode = isPluginError(refused) ? refused.code : 'not a PluginError';
    const missing: unknown = await manager
      .execute('nobody', { text: 'x' })
      .catch((e: unknown) => e);

    const diff = diffConfigs(config, parseConfig({ plugins: [] }));
    const probe = createProbeHandler(manager);
    const prometheus: PrometheusOptions = { prefix: 'consumer_', labels: { service: 'test' } };
    return {
      remote,
      local,
      refusedCode,
      applicationErrorCode: ErrorCode.ApplicationError,
      missingCode: isPluginError(missing) ? missing.code : undefined,
      ready: report.ready,
      remoteTransport: remoteConfig?.transport,
      removed: diff.removed,
      probe: typeof probe,
      prometheusPrefix: prometheus.prefix,
      spans: spans.length > 0,
    };
  } finally {
    await manager.shutdown();
    await served.close();
  }
}

main().then(
  (result) => console.log(JSON.stringify(result)),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
