import { z } from 'zod';
import { isRecord, keyed, withRule, type FieldKit } from './fields.js';
import type { Problem } from './issues.js';
import type {
  CircuitBreakerConfig,
  ConnectionConfig,
  HealthCheckConfig,
  PolicyConfig,
  RateLimitConfig,
  RetryConfig,
  StartupConfig,
} from './types.js';

/**
 * The policy sections shared by `defaults` and every plugin. Each field falls back to `base`:
 * the built-in defaults for the `defaults` section, the parsed `defaults` for a plugin. So
 * layering (built-in ← `defaults` ← plugin) is per field, and the output is always complete.
 */

/** The `retry` section, each field defaulting to `base`. */
export function retrySchema(kit: FieldKit, base: RetryConfig) {
  return retry(kit, base);
}

function retry(kit: FieldKit, base: RetryConfig) {
  const schema = z.strictObject({
    maxRetries: kit.number(z.int().min(0)).default(base.maxRetries),
    initialInterval: kit.duration('non-negative').default(base.initialInterval),
    maxInterval: kit.duration('non-negative').default(base.maxInterval),
    multiplier: kit.number(z.number().min(1)).default(base.multiplier),
    randomJitter: kit.boolean().default(base.randomJitter),
  });
  return keyed(withRule(schema, intervalsInOrder));
}

function circuitBreaker(kit: FieldKit, base: CircuitBreakerConfig) {
  return keyed(
    z.strictObject({
      enabled: kit.boolean().default(base.enabled),
      mode: kit.text(z.enum(['consecutive', 'rate'])).default(base.mode),
      failureThreshold: kit.number(z.int().positive()).default(base.failureThreshold),
      recoveryTimeout: kit.duration('positive').default(base.recoveryTimeout),
      recoveryMultiplier: kit.number(z.number().min(1)).default(base.recoveryMultiplier),
      maxRecoveryTimeout: kit.duration('positive').default(base.maxRecoveryTimeout),
      minRequestThreshold: kit.number(z.int().positive()).default(base.minRequestThreshold),
      successThreshold: kit.number(z.int().positive()).default(base.successThreshold),
      errorThresholdPercentage: kit
        .number(z.number().min(1).max(100))
        .default(base.errorThresholdPercentage),
      windowMs: kit.duration('positive').default(base.windowMs),
    }),
  );
}

function healthCheck(kit: FieldKit, base: HealthCheckConfig) {
  const schema = keyed(
    z.strictObject({
      enabled: kit.boolean().default(base.enabled),
      interval: kit.duration('positive').default(base.interval),
      timeout: kit.duration('positive').default(base.timeout),
      failureLimit: kit.number(z.int().positive()).default(base.failureLimit),
      endpoint: kit.text(z.string().min(1)).optional(),
    }),
  );
  // `endpoint` is inherited like the other fields, yet stays optional (absent = `<endpoint>/health`).
  if (base.endpoint === undefined) return schema;
  return z.preprocess(
    (value) =>
      isRecord(value) && value.endpoint == null ? { ...value, endpoint: base.endpoint } : value,
    schema,
  );
}

function connection(kit: FieldKit, base: ConnectionConfig) {
  return keyed(
    z.strictObject({
      maxConnections: kit.number(z.int().positive()).default(base.maxConnections),
      maxPending: kit.number(z.int().min(0)).default(base.maxPending),
      maxIdleConnections: kit.number(z.int().min(0)).default(base.maxIdleConnections),
      idleTimeout: kit.duration('non-negative').default(base.idleTimeout),
      connectionTimeout: kit.duration('positive').default(base.connectionTimeout),
      requestTimeout: kit.duration('positive').default(base.requestTimeout),
      keepAlive: kit.boolean().default(base.keepAlive),
      disableCompression: kit.boolean().default(base.disableCompression),
      maxResponseBytes: kit.size().default(base.maxResponseBytes),
    }),
  );
}

function rateLimit(kit: FieldKit, base: RateLimitConfig) {
  const schema = z.strictObject({
    enabled: kit.boolean().default(base.enabled),
    requestsPerSecond: kit.number(z.number().min(0)).default(base.requestsPerSecond),
    burstSize: kit.number(z.int().min(0)).default(base.burstSize),
    maxWait: kit.duration('non-negative').default(base.maxWait),
    timeWindow: kit.duration('positive').default(base.timeWindow),
    scope: kit.text(z.enum(['local', 'cluster'])).default(base.scope),
  });
  return keyed(withRule(schema, limitsWhenEnabled));
}

function startup(kit: FieldKit, base: StartupConfig) {
  const schema = z.strictObject({
    maxAttempts: kit.number(z.int().positive()).default(base.maxAttempts),
    initialInterval: kit.duration('non-negative').default(base.initialInterval),
    maxInterval: kit.duration('non-negative').default(base.maxInterval),
    timeout: kit.duration('positive').default(base.timeout),
  });
  return keyed(withRule(schema, intervalsInOrder));
}

/** The policy fields of a plugin (or of `defaults`), each section defaulting to `base`. */
export function policyShape(kit: FieldKit, base: PolicyConfig) {
  return {
    retry: retry(kit, base.retry).prefault({}),
    circuitBreaker: circuitBreaker(kit, base.circuitBreaker).prefault({}),
    healthCheck: healthCheck(kit, base.healthCheck).prefault({}),
    connection: connection(kit, base.connection).prefault({}),
    rateLimit: rateLimit(kit, base.rateLimit).prefault({}),
    startup: startup(kit, base.startup).prefault({}),
  };
}

/** The `defaults` section: every policy field, falling back to `base`. */
export function policySchema(kit: FieldKit, base: PolicyConfig) {
  return keyed(z.strictObject(policyShape(kit, base)));
}

function intervalsInOrder(
  section: { initialInterval: number; maxInterval: number },
  valid: (...path: PropertyKey[]) => boolean,
): Problem[] {
  if (!valid('initialInterval') || !valid('maxInterval')) return [];
  return section.maxInterval < section.initialInterval
    ? [{ path: ['maxInterval'], message: 'must not be less than initialInterval' }]
    : [];
}

function limitsWhenEnabled(
  limit: RateLimitConfig,
  valid: (...path: PropertyKey[]) => boolean,
): Problem[] {
  if (!valid('enabled') || !limit.enabled) return [];
  const problems: Problem[] = [];
  if (valid('requestsPerSecond') && limit.requestsPerSecond <= 0) {
    problems.push({
      path: ['requestsPerSecond'],
      message: 'must be greater than 0 when the rate limit is enabled',
    });
  }
  if (valid('burstSize') && limit.burstSize < 1) {
    problems.push({
      path: ['burstSize'],
      message: 'must be at least 1 when the rate limit is enabled',
    });
  }
  return problems;
}
