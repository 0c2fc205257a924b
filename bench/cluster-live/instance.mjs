/**
 * One plugin instance of bench/cluster-live.ts, written by hand with nothing but Node (no
 * plugwire, no SDK, no ts-node): the HTTP envelope of docs/protocol/http.md on 127.0.0.1.
 * It serves SLOTS calls at once with a FIFO queue behind, as the seed's workers do: a call
 * `{ "data": { "ms": 20 } }` holds a slot for 20 ms, then answers `{ "data": "<id>" }`.
 * A call whose connection closes while it waits in the queue is dropped (the host gave up);
 * one that already holds a slot keeps it until its time is over.
 *
 *   node bench/cluster-live/instance.mjs <id>    prints {"endpoint":"http://127.0.0.1:<port>/execute"}
 */
import { createServer } from 'node:http';

const id = process.argv[2] ?? `instance-${process.pid}`;
const SLOTS = 2;
let running = 0;
/** Waiting calls, oldest first. */
const queue = [];

function next() {
  while (running < SLOTS && queue.length > 0) {
    const call = queue.shift();
    if (call.gone) continue;
    running++;
    setTimeout(() => {
      running--;
      call.answer();
      next();
    }, call.ms);
  }
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    if (req.url.endsWith('/health')) return reply(res, 200, { status: 'healthy' });
    if (req.url.endsWith('/info')) return reply(res, 200, { name: id, version: '1.0.0' });
    return reply(res, 404, { error: 'not found' });
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let envelope;
    try {
      envelope = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 400, { data: null, error: 'bad JSON', request_id: '', metadata: {} });
    }
    const ms = Number(envelope.data?.ms);
    if (!Number.isFinite(ms) || ms < 0) {
      return reply(res, 400, {
        data: null,
        error: 'data.ms must be a number of milliseconds',
        request_id: envelope.request_id ?? '',
        metadata: {},
      });
    }
    const call = {
      ms,
      gone: false,
      answer: () => {
        if (!res.destroyed) {
          reply(res, 200, { data: id, error: '', request_id: envelope.request_id, metadata: {} });
        }
      },
    };
    res.on('close', () => (call.gone = !res.writableFinished));
    queue.push(call);
    next();
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ endpoint: `http://127.0.0.1:${server.address().port}/execute` })),
);
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The bench holds our stdin: when it goes away (even killed), so do we.
process.stdin.on('end', stop);
process.stdin.resume();
