// Shared pieces of the fuzz tier (issue 10): a fixed seed, hostile byte streams, planted secrets
// and the checks every property makes. `FUZZ_SEED` and `FUZZ_RUNS` override the defaults, to
// replay a failure or to search longer than CI does.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { isPluginError, registerSecret } from '../../src/errors.js';

/** One seed for the whole tier, so a CI failure replays exactly. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20_260_410);

/** Runs per property: small enough that the whole tier stays well under 30 s on 2 cores. */
export function runs(fallback: number): number {
  return Number(process.env.FUZZ_RUNS ?? fallback);
}

/** Options for `fc.assert`: seeded, bounded in runs and time. */
export function fuzzOptions(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: runs(numRuns), interruptAfterTimeLimit: 8_000, endOnFailure: true };
}

/** A secret the host knows (registered, as a config's token is) and one it recognises by shape. */
export const KNOWN_SECRET = 'Fuzz-Kn0wn-Secret-7d1c';
export const BEARER_SECRET = 'fuzzBearerCred3ntial0042';
registerSecret(KNOWN_SECRET);

const SECRET_TEXT = fc.constantFrom(
  KNOWN_SECRET,
  `Bearer ${BEARER_SECRET}`,
  `{"token":"${KNOWN_SECRET}"}`,
  `authorization: Bearer ${BEARER_SECRET}`,
  `password=${KNOWN_SECRET}`,
);

/** Text a hostile plugin might write in a field: arbitrary, with a planted secret now and then. */
export const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  SECRET_TEXT,
  fc.tuple(fc.string({ maxLength: 10 }), SECRET_TEXT).map(([a, b]) => `${a} ${b}`),
);

/** JSON nested `depth` levels deep. */
export function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * One fragment of a reply stream. `$ID` stands for the request id of the call being answered
 * (the fixture substitutes it), so that hostile lines do reach pending calls.
 */
export const fragment: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom('\n', '\r\n', '{', '"request_id":"$ID"', '}\n', '[', '\u0000', '\uD800'),
  fc.integer({ min: 1, max: 8_000 }).map((depth) => `${deepJson(depth)}\n`),
  fc
    .integer({ min: 1, max: 8_000 })
    .map((depth) => `{"request_id":"$ID","data":${deepJson(depth)}}\n`),
  fc
    .record({
      success: fc.oneof(fc.boolean(), fc.constant('yes'), fc.constant(1), fc.constant(null)),
      error: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 3 })),
      retryable: fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })),
      data: fc.jsonValue({ maxDepth: 4 }),
      type: fc.constantFrom('execute', 'handshake', 'health', 'x'),
    })
    .map((reply) => `${JSON.stringify({ request_id: '$ID', ...reply })}\n`),
  hostileText.map((text) => `${text}\n`),
  fc
    .record({ success: fc.boolean(), data: fc.jsonValue({ maxDepth: 3 }) })
    .map((reply) => `${JSON.stringify({ request_id: 'someone-else', ...reply })}\n`),
);

/** A hostile stream: fragments joined, as bytes. */
export const hostileStream = fc
  .array(fragment, { maxLength: 12 })
  .map((parts) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))),
  );

/** Fails when `text` shows a planted secret. */
export function assertNoSecret(text: string, where: string): void {
  assert.ok(!text.includes(KNOWN_SECRET), `${where} shows the known secret: ${text.slice(0, 400)}`);
  assert.ok(
    !text.includes(BEARER_SECRET),
    `${where} shows a bearer credential: ${text.slice(0, 400)}`,
  );
}

/** What a call settled with must be a value or a PluginError that shows no secret, cause included. */
export function checkOutcome(outcome: PromiseSettledResult<unknown>): void {
  if (outcome.status === 'fulfilled') return;
  const error = outcome.reason;
  assert.ok(isPluginError(error), `a call rejected with something else: ${String(error)}`);
  assertNoSecret(error.message, 'an error message');
  assertNoSecret(JSON.stringify(error), 'an error as JSON');
  assertNoSecret(inspect(error, { depth: 6 }), 'an inspected error (cause included)');
}

/** Log entries must show no secret, however a logger serialises them. */
export function checkLog(entries: ReadonlyArray<{ fields: unknown; message: string }>): void {
  for (const entry of entries) {
    assertNoSecret(entry.message, 'a log message');
    assertNoSecret(inspect(entry.fields, { depth: 6 }), 'log fields');
  }
}

/** Records every uncaught exception and unhandled rejection while a property runs. */
export function trapUncaught(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => {
    errors.push(error);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
