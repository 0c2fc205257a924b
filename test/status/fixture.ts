/**
 * A manager with the three plugins the status tests look at: `ledger` (healthy), `mailer`
 * (every call fails; its health check reports an error that carries a password) and `vault`
 * (its breaker opened after one failure). `ledger` and `mailer` form the group `payments`.
 */
import { Manager, definePlugin } from '../../src/index.js';

export const LEAKY_PASSWORD = 'hunter2-not-for-eyes';

export async function threePlugins(): Promise<Manager> {
  const manager = new Manager({ builtinTransports: false });
  const fail = (): never => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  };
  // Failed after the request went out (not retried: not idempotent, no retries).
  const reset = (): never => {
    throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  };
  const noRetry = { retry: { maxRetries: 0 } };
  await manager.register(definePlugin({ name: 'ledger', execute: (req) => ({ ok: req }) }), {
    group: 'payments',
    ...noRetry,
  });
  await manager.register(
    definePlugin({
      name: 'mailer',
      execute: reset,
      health: () => ({
        status: 'degraded',
        message: `smtp relay refused login password=${LEAKY_PASSWORD}`,
        lastCheck: 0,
        responseTimeMs: 0,
      }),
    }),
    { group: 'payments', circuitBreaker: { enabled: true, failureThreshold: 1000 }, ...noRetry },
  );
  await manager.register(definePlugin({ name: 'vault', execute: fail }), {
    circuitBreaker: { enabled: true, failureThreshold: 1, recoveryTimeout: '1h' },
    ...noRetry,
  });
  return manager;
}

/** Some traffic: ledger succeeds, mailer fails, vault fails once and then is refused. */
export async function traffic(manager: Manager, calls = 5): Promise<void> {
  for (let i = 0; i < calls; i++) {
    await manager.execute('ledger', i);
    await manager.execute('mailer', i).catch(() => undefined);
    await manager.execute('vault', i).catch(() => undefined);
  }
}
