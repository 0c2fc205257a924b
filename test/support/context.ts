import { randomUUID } from 'node:crypto';
import type { ExecutionContext } from '../../src/types.js';

/**
 * An ExecutionContext for calling a transport directly, as the manager would for one attempt.
 * `signal` (given or fresh) also serves as `cancellation`, so aborting it reaches both.
 */
export function callContext(overrides: Partial<ExecutionContext> = {}): ExecutionContext {
  const signal = overrides.signal ?? new AbortController().signal;
  return {
    signal,
    cancellation: signal,
    deadline: Date.now() + 30_000,
    requestId: randomUUID(),
    attempt: 1,
    operation: undefined,
    headers: {},
    metadata: {},
    ...overrides,
  };
}
