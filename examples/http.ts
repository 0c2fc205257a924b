/**
 * An HTTP plugin: served with the SDK's serveHttp, called through the manager.
 * Run: node --loader ts-node/esm examples/http.ts
 */
import { Manager } from '../src/index.js';
import { serveHttp } from '../src/sdk/index.js';
import { textTools, type TextRequest, type TextResponse } from './plugins/text-tools.js';

const plugin = await serveHttp(textTools('http example'), { info: { name: 'text-tools' } });

const manager = new Manager<TextRequest, TextResponse>();
await manager.load({
  plugins: [
    {
      name: 'text',
      transport: 'http',
      endpoint: plugin.endpoint,
      auth: { method: 'bearer', token: 'example-token' },
      retry: { maxRetries: 2, initialInterval: '50ms' },
      connection: { requestTimeout: '2s' },
    },
  ],
});

console.log(await manager.execute('text', { op: 'upper', text: 'hello over http' }));
const refused = await manager.execute('text', { op: 'upper', text: '' }).catch((e) => e);
console.log(`empty text: ${refused.code} ${refused.message}`);

await manager.shutdown();
await plugin.close();
