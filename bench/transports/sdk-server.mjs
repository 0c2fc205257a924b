/**
 * The SDK's servers with the minimal server's handler (bench/transports/minimal.mjs: the same
 * reply, no look at `ctx.signal`), run from the built package (dist/, plain Node, as a
 * published plugin runs): what the SDK costs beside a hand-written server, handler aside.
 *
 *   node bench/transports/sdk-server.mjs unix <socket path> | stdio | http | grpc
 */
import { serveGrpc, serveHttp, serveStdio, serveUnix } from '../../dist/sdk/index.js';

const servedBy = `sdk pid ${process.pid}`;
const handler = (request) => ({
  result: typeof request?.text === 'string' ? request.text.toUpperCase() : null,
  servedBy,
});

const [mode, path] = process.argv.slice(2);
if (mode === 'stdio') {
  await serveStdio(handler, { info: { name: 'sdk-minimal', version: '1.0.0' } });
} else {
  const served =
    mode === 'unix'
      ? await serveUnix(handler, { path })
      : mode === 'grpc'
        ? await serveGrpc(handler, {})
        : await serveHttp(handler, {});
  console.log(JSON.stringify({ endpoint: served.endpoint }));
  process.on('SIGTERM', () => void served.close({ timeoutMs: 500 }).then(() => process.exit(0)));
}
