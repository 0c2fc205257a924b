/**
 * The minimal gRPC plugin server, written by hand: a plain @grpc/grpc-js `Server` with one
 * method, `/plugwire.v1.Plugin/Execute`, and the same message serializers the transport uses
 * (src/transport/grpc/methods.ts, so the bytes on the wire are the SDK server's). No plugwire
 * SDK: no request context, no deadline watching, no cancel listener, no Info or health service.
 * It answers with the text-tools `upper` reply (`{ result, servedBy }`), JSON in `data`, and
 * echoes the request id, as `serveGrpc` does. It is the "hand-written server" `serveGrpc` is
 * measured against (bench/sdk-servers.ts).
 *
 *   node --loader ts-node/esm bench/transports/minimal-grpc.ts grpc
 *     listens on 127.0.0.1 (a free port), prints {"endpoint":"127.0.0.1:<port>"}
 *
 * TypeScript (through ts-node) only to share the serializers with src/ without a build; once
 * loaded, the code that runs per call is the compiled JavaScript, as with a built server.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type {
  ExecuteRequestMessage,
  ExecuteResponseMessage,
} from '../../src/transport/grpc/messages.js';
import { executeMethod } from '../../src/transport/grpc/methods.js';

const servedBy = `minimal pid ${process.pid}`;
const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

function execute(
  call: ServerUnaryCall<ExecuteRequestMessage, ExecuteResponseMessage>,
  callback: sendUnaryData<ExecuteResponseMessage>,
): void {
  const message = call.request;
  const request = JSON.parse(Buffer.from(message.data).toString('utf8')) as { text?: unknown };
  const text = request?.text;
  const reply = { result: typeof text === 'string' ? text.toUpperCase() : null, servedBy };
  callback(null, {
    data: Buffer.from(JSON.stringify(reply)),
    error: '',
    retryable: false,
    metadata: NO_METADATA,
    requestId: message.requestId,
  });
}

const server = new Server();
server.addService({ Execute: executeMethod }, { Execute: execute });
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ endpoint: `127.0.0.1:${port}` }));
});
process.on('SIGTERM', () => {
  server.forceShutdown();
  process.exit(0);
});
