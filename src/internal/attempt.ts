const ATTEMPT_TEXT = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * The attempt number as the text of the `X-Request-Attempt` header / `x-request-attempt`
 * metadata (the usual small numbers without a conversion per call).
 */
export function attemptText(attempt: number): string {
  return ATTEMPT_TEXT[attempt] ?? String(attempt);
}
