/**
 * The text-tools plugin as a standalone server process on one transport:
 *   node --loader ts-node/esm examples/plugins/serve.ts http|grpc|unix [socket-path]
 * It prints one JSON line `{"endpoint": ...}` on stdout once it listens, and stops on SIGTERM.
 */
import { serveGrpc, serveHttp, serveUnix, type ServedPlugin } from '../../src/sdk/index.js';
import { textTools } from './text-tools.js';

const [transport = 'http', socketPath] = process.argv.slice(2);
const info = { name: 'text-tools', version: '1.0.0' };
const handler = textTools(`${transport} pid ${process.pid}`);
const port = Number(process.env.PORT ?? 0);

let served: ServedPlugin;
if (transport === 'http') served = await serveHttp(handler, { info, port });
else if (transport === 'grpc') served = await serveGrpc(handler, { info, port });
else if (transport === 'unix' && socketPath)
  served = await serveUnix(handler, { info, path: socketPath });
else throw new Error('usage: serve.ts http|grpc|unix [socket-path]');

console.log(JSON.stringify({ endpoint: served.endpoint, pid: process.pid }));
process.once('SIGTERM', () => void served.close({ timeoutMs: 1_000 }).then(() => process.exit(0)));
