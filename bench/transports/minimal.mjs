/**
 * The minimal newline-JSON plugin of the transport benchmark, written by hand with nothing but
 * Node: no plugwire, no SDK, no ts-node. It answers `execute` with the text-tools `upper` reply
 * (`{ result, servedBy }`) and `health`/`ping`/`info` with success, one `write` per reply, as
 * the simplest correct server would. It is the limit the manager's Unix and exec transports are
 * measured against (bench/transports.ts, BENCH_SERVER=minimal), and the "hand-written server"
 * the SDK's servers are measured against (bench/sdk-servers.ts).
 *
 *   node bench/transports/minimal.mjs unix <socket path>   prints {"endpoint":"<socket path>"}
 *   node bench/transports/minimal.mjs stdio                handshake, then stdin/stdout
 *   node bench/transports/minimal.mjs http                 the HTTP envelope (docs/protocol/http.md)
 *                                                          on 127.0.0.1, prints {"endpoint":"http://..."}
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';

const servedBy = `minimal pid ${process.pid}`;

function answer(line) {
  const request = JSON.parse(line);
  const id = request.request_id;
  if (request.type === 'execute') {
    const text = request.data?.text;
    return `${JSON.stringify({
      type: 'execute',
      request_id: id,
      success: true,
      data: { result: typeof text === 'string' ? text.toUpperCase() : null, servedBy },
    })}\n`;
  }
  if (request.type === 'cancel') return undefined;
  return `${JSON.stringify({ type: request.type, request_id: id, success: true, data: { status: 'healthy' } })}\n`;
}

/** Splits `input` into lines and writes each answer to `output`. */
function serve(input, output) {
  let rest = '';
  input.setEncoding('utf8');
  input.on('data', (chunk) => {
    const text = rest + chunk;
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      if (newline > start) {
        const reply = answer(text.slice(start, newline));
        if (reply !== undefined) output.write(reply);
      }
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    rest = text.slice(start);
  });
}

const [mode, path] = process.argv.slice(2);
if (mode === 'unix') {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    serve(socket, socket);
  });
  server.listen(path, () => console.log(JSON.stringify({ endpoint: path })));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'http') {
  const server = createHttpServer((req, res) => {
    if (req.method === 'GET') {
      // GET <endpoint>/health (docs/protocol/http.md): the host's health check.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"healthy"}');
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const text = envelope.data?.text;
      const body = JSON.stringify({
        data: { result: typeof text === 'string' ? text.toUpperCase() : null, servedBy },
        error: '',
        request_id: envelope.request_id,
        metadata: {},
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () =>
    console.log(JSON.stringify({ endpoint: `http://127.0.0.1:${server.address().port}/execute` })),
  );
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
} else if (mode === 'stdio') {
  process.stdout.write(
    `${JSON.stringify({ type: 'handshake', protocol: 1, name: 'minimal', version: '1.0.0' })}\n`,
  );
  serve(process.stdin, process.stdout);
  process.stdin.on('end', () => process.exit(0));
} else {
  console.error('usage: minimal.mjs unix <path> | stdio | http');
  process.exit(2);
}
