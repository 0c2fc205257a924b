/**
 * In-process plugins: the whole pipeline (deadline, retries, circuit breaker, rate limit) around
 * plain functions. Run: node --loader ts-node/esm examples/in-process.ts
 */
import { Manager, applicationError, definePlugin, isPluginError } from '../src/index.js';

interface Quote {
  amount: number;
}

const manager = new Manager<Quote, { fee: number }>();
manager.on('retry', (e) => console.log(`  retrying ${e.plugin} (attempt ${e.attempt}, ${e.code})`));
manager.on('circuit-open', (e) => console.log(`  circuit of ${e.plugin} opened`));

// A pricing plugin that fails transiently once in a while and says "no" to negative amounts.
let calls = 0;
await manager.register(
  definePlugin<Quote, { fee: number }>({
    name: 'pricing',
    execute(quote) {
      calls++;
      if (quote.amount < 0) throw applicationError('amount must be positive');
      if (calls % 3 === 1)
        throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      return { fee: Math.round(quote.amount * 0.029 * 100) / 100 };
    },
  }),
  {
    // A quote is a pure computation: running it twice does no harm, so a reset is retried.
    idempotent: true,
    retry: { maxRetries: 2, initialInterval: '10ms' },
    circuitBreaker: { failureThreshold: 3 },
  },
);

console.log('fee for 100:', await manager.execute('pricing', { amount: 100 }));
try {
  await manager.execute('pricing', { amount: -5 });
} catch (error) {
  if (isPluginError(error)) console.log(`refused: ${error.code} ${error.message} (not retried)`);
}

// A plugin that hangs: the deadline ends the call, whatever the plugin does.
await manager.register(definePlugin({ name: 'slow', execute: () => new Promise(() => {}) }));
const started = Date.now();
const timeout = await manager.execute('slow', { amount: 1 }, { timeoutMs: 100 }).catch((e) => e);
console.log(`slow plugin: ${timeout.code} after ${Date.now() - started} ms`);

const { global } = manager.metrics();
console.log(`calls: ${global.total}, ok: ${global.success}, retries: ${global.retries}`);
await manager.shutdown();
