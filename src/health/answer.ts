import { redactSecrets } from '../errors.js';
import type { HealthStatus } from '../types.js';
import { errorMessage } from '../internal/errorMessage.js';

/** What a user-written health function may return. */
export type HealthAnswer = HealthStatus | boolean;

/**
 * Runs a user-written health function (or none: healthy) and turns its answer, its throw or its
 * boolean into a {@link HealthStatus} with timing filled in. Shared by in-process plugins and the SDK.
 */
export async function answerHealth(
  check: ((signal: AbortSignal) => HealthAnswer | Promise<HealthAnswer>) | undefined,
  signal: AbortSignal,
): Promise<HealthStatus> {
  const started = Date.now();
  try {
    const answer = check ? await check(signal) : true;
    const status: HealthStatus =
      typeof answer === 'boolean'
        ? { status: answer ? 'healthy' : 'unhealthy', lastCheck: 0, responseTimeMs: 0 }
        : answer;
    return { ...status, lastCheck: Date.now(), responseTimeMs: Date.now() - started };
  } catch (error) {
    return {
      status: 'unhealthy',
      message: redactSecrets(errorMessage(error)),
      lastCheck: Date.now(),
      responseTimeMs: Date.now() - started,
    };
  }
}
