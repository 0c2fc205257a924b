// A child process for the gRPC tests: `serve <port>` runs serveGrpc on 127.0.0.1:<port> and
// prints its endpoint; the handler answers `{ pid }` after `delayMs` (if asked), printing `busy`
// when such a slow call starts.
import { setTimeout as sleep } from 'node:timers/promises';
import { serveGrpc } from '../../src/sdk/grpc.js';
import type { HandlerContext } from '../../src/sdk/types.js';

const port = Number(process.argv[2] ?? 0);
const served = await serveGrpc(
  async (req: { delayMs?: number } | undefined, ctx: HandlerContext) => {
    if (req?.delayMs) {
      process.stdout.write('busy\n'); // tells the parent this call reached the handler
      await sleep(req.delayMs, undefined, { signal: ctx.signal });
    }
    return { pid: process.pid };
  },
  { port },
);
process.stdout.write(`${served.endpoint}\n`);
// The parent kills this process; closing stdin (parent gone) ends it too.
process.stdin.resume();
process.stdin.on('end', () => void served.close().then(() => process.exit(0)));
