// Run by packed.test.ts from a consumer folder beside the installed package, with
// test/fixtures/log-packages.mjs watching the package's own modules (LOG_PACKAGES_ROOT) and
// BLOCK_PACKAGES making undici and @grpc/grpc-js unresolvable. Prints one JSON line: what each
// entry's import asked for, whether the two entries share their exports, and how the blocked
// transports failed.
import { readFileSync } from 'node:fs';

const requested = () => readFileSync(process.env.DEPS_LOG, 'utf8').split('\n').filter(Boolean);

const sdk = await import('plugwire/sdk');
const afterSdk = requested();
const main = await import('plugwire');
const afterMain = requested();

const sharedNames = Object.keys(sdk).filter((name) => name in main);
const notShared = sharedNames.filter((name) => main[name] !== sdk[name]);
const sdkError = sdk.applicationError('nope');
const identity = {
  sharedNames: sharedNames.length,
  notShared,
  samePluginError: main.PluginError === sdk.PluginError,
  instanceAcross: sdkError instanceof main.PluginError && main.isPluginError(sdkError),
};

function failure(error) {
  return {
    pluginError: main.isPluginError(error),
    code: main.isPluginError(error) ? error.code : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}

const manager = new main.Manager();
await manager.register(main.definePlugin({ name: 'local', execute: (n) => n + 1 }));
const local = await manager.execute('local', 41);
const afterLocal = requested();
let http = { loaded: true };
try {
  await manager.load({
    plugins: [{ name: 'h', transport: 'http', endpoint: 'http://127.0.0.1:9/x' }],
  });
} catch (error) {
  http = failure(error);
}
await manager.shutdown();
let grpc = { served: true };
try {
  const served = await sdk.serveGrpc(async () => 'x');
  await served.close();
} catch (error) {
  grpc = failure(error);
}
console.log(
  JSON.stringify({
    afterSdk,
    afterMain,
    afterLocal,
    identity,
    local,
    http,
    grpc,
    all: requested(),
  }),
);
