// A minimal plugwire HTTP plugin written by hand on node:http, for bench/overload.ts: it answers
// every POST with {"data": <the request's data>, "request_id": ...} after DELAY_MS (0: at once),
// and GET .../health with 200. It prints {"endpoint": ...} once listening on 127.0.0.1.
import { createServer } from 'node:http';

const delay = Number(process.env.DELAY_MS ?? 0);
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const reply = JSON.stringify({ data: body.data, request_id: body.request_id });
    const send = () =>
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(reply),
        })
        .end(reply);
    if (delay > 0) setTimeout(send, delay);
    else send();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ endpoint: `http://127.0.0.1:${server.address().port}/execute` })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
