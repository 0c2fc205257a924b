/**
 * A gRPC plugin (proto/plugin.proto, package plugwire.v1) with standard grpc.health.v1 health.
 * Run: node --loader ts-node/esm examples/grpc.ts
 */
import { Manager } from '../src/index.js';
import { serveGrpc } from '../src/sdk/index.js';
import { textTools, type TextRequest, type TextResponse } from './plugins/text-tools.js';

const plugin = await serveGrpc(textTools('grpc example'), { info: { name: 'text-tools' } });

const manager = new Manager<TextRequest, TextResponse>();
await manager.load({ plugins: [{ name: 'text', transport: 'grpc', endpoint: plugin.endpoint }] });

console.log(
  await manager.execute(
    'text',
    { op: 'reverse', text: 'gRPC deadline propagated' },
    { timeoutMs: 1_000 },
  ),
);
console.log('health:', manager.health().text?.status);

await manager.shutdown();
await plugin.close();
