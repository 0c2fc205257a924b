/**
 * An exec plugin: the manager spawns and supervises a child process that speaks JSON lines on
 * stdin/stdout. Killing the child shows the restart.
 * Run: node --loader ts-node/esm examples/exec.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager } from '../src/index.js';
import type { TextRequest, TextResponse } from './plugins/text-tools.js';

const manager = new Manager<TextRequest, TextResponse>({ logger: console });
await manager.load({
  plugins: [
    {
      name: 'text',
      transport: 'exec',
      executable: process.execPath,
      args: ['--loader', 'ts-node/esm', '--no-warnings', 'examples/plugins/stdio-plugin.ts'],
      env: ['TS_NODE_TRANSPILE_ONLY=true'],
      startup: { timeout: '20s' },
      // Upper-casing text can run twice without harm: a call written to a child that was
      // dying is retried on the restarted one (a call made while it is down waits for it).
      idempotent: true,
      retry: { maxRetries: 5, initialInterval: '200ms', maxInterval: '2s' },
      connection: { requestTimeout: '20s' },
    },
  ],
});

const first = await manager.execute('text', { op: 'upper', text: 'from a child process' });
console.log(first);

const pid = Number(String(first.servedBy).split('pid ')[1]);
console.log(`killing the plugin process ${pid}…`);
process.kill(pid, 'SIGKILL');
await sleep(50);

// The call waits for the supervisor's restart of the child (or, sent to the dying child, is
// retried: the plugin is idempotent).
const again = await manager.execute('text', { op: 'upper', text: 'after a crash' });
console.log(again, again.servedBy === first.servedBy ? '(same process?!)' : '(a new process)');

await manager.shutdown();
