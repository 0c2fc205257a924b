// Helpers shared by the gRPC transport tests.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, loadPackageDefinition } from '@grpc/grpc-js';
import type {
  GrpcObject,
  ServiceClientConstructor,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import type { PluginConfig } from '../../src/config/types.js';
import { isPluginError } from '../../src/errors.js';
import type { PluginError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { serveGrpc } from '../../src/sdk/grpc.js';
import type { ServeGrpcOptions } from '../../src/sdk/grpc.js';
import type { Handler, ServedPlugin } from '../../src/sdk/types.js';
import { grpcFactory } from '../../src/transport/grpc/index.js';
import type { Codec, Plugin } from '../../src/types.js';

/** A test that would hang if the behaviour broke fails after this instead (not a speed check). */
export const HANG_GUARD = { timeout: 20_000 };

/** Things to close when the test file ends. */
export const open: Array<{ close(): Promise<void> }> = [];

export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((item) => item.close()));
}

/** A gRPC plugin for `endpoint`, validated, not started. */
export function grpcPlugin(
  endpoint: string,
  extra: Partial<PluginConfig> = {},
  codec: Codec = jsonCodec,
): Plugin<unknown, unknown> {
  const config = pluginConfig({ name: 'under-test', transport: 'grpc', endpoint, ...extra });
  assert.deepEqual(grpcFactory.validate?.(config), []);
  const plugin = grpcFactory.create(config, { codec, logger: silentLogger });
  open.push(plugin);
  return plugin;
}

export async function serve<Req, Resp>(
  handler: Handler<Req, Resp>,
  options?: ServeGrpcOptions,
): Promise<ServedPlugin> {
  const served = await serveGrpc(handler, options);
  open.push(served);
  return served;
}

/** Passes raw bytes through: what the host sends is exactly what the handler gets. */
export const bytesCodec: Codec = {
  name: 'bytes',
  contentType: 'application/octet-stream',
  encode: (value) => value as Uint8Array,
  decode: (bytes) => Buffer.from(bytes),
};

// The protocol as a plugin author in another language sees it: the .proto files, nothing else.
const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url));
const loaded = loadPackageDefinition(
  loadSync(['plugin.proto', 'grpc/health/v1/health.proto'], {
    includeDirs: [protoDir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  }),
);
const pkg = (path: string): ServiceClientConstructor =>
  path
    .split('.')
    .reduce<unknown>((node, key) => (node as GrpcObject)[key], loaded) as ServiceClientConstructor;

/** `plugwire.v1.Plugin` and `grpc.health.v1.Health` as loaded from proto/ by @grpc/proto-loader. */
export const protoServices = {
  plugin: pkg('plugwire.v1.Plugin').service,
  health: pkg('grpc.health.v1.Health').service,
};

/**
 * A grpc-js server built from the .proto files only (no plugwire code), listening on
 * 127.0.0.1 or the given `unix:` address.
 */
export async function plainServer(
  services: {
    plugin?: UntypedServiceImplementation;
    health?: UntypedServiceImplementation;
  },
  address = '127.0.0.1:0',
): Promise<{ endpoint: string; server: Server }> {
  const server = new Server();
  if (services.plugin) server.addService(protoServices.plugin, services.plugin);
  if (services.health) server.addService(protoServices.health, services.health);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  open.push({ close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) });
  return { endpoint: address.startsWith('unix:') ? address : `127.0.0.1:${port}`, server };
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

/** The PluginError `promise` rejects with; fails the test if it resolves or throws anything else. */
export async function failure(promise: Promise<unknown>): Promise<PluginError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isPluginError(error), `expected a PluginError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

export { callContext as ctx } from '../support/context.js';
