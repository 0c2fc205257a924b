import { MAX_MESSAGE_CHARS, parseJson, preview } from '../../internal/untrusted.js';
import type { HealthState, HealthStatus } from '../../types.js';

const STATES = new Set<string>(['unknown', 'healthy', 'degraded', 'unhealthy', 'offline']);

/**
 * Reads a health endpoint's reply. The status code decides first (2xx healthy, anything else
 * unhealthy); a JSON body `{ "status", "message", "metadata" }` can only make it worse
 * (`degraded`, `unhealthy` or `offline` on a 2xx; `offline` on a failure). Other status words
 * (`ok`, `UP`, …) and bodies that are not JSON are ignored, so any endpoint that answers 200 will
 * do.
 */
export function healthFromReply(status: number, body: Buffer, started: number): HealthStatus {
  const ok = status >= 200 && status < 300;
  const reply = parseObject(body);
  const said = typeof reply?.status === 'string' ? reply.status.toLowerCase() : undefined;
  let state: HealthState = ok ? 'healthy' : 'unhealthy';
  // The worse of the two signals wins: a 200 whose body says "unhealthy" is unhealthy, a 503
  // whose body says "healthy" is still unhealthy.
  if (said !== undefined && STATES.has(said) && said !== 'unknown') {
    const saysWell = said === 'healthy' || said === 'degraded';
    if (ok || !saysWell) state = said as HealthState;
  }
  const saidMessage =
    typeof reply?.message === 'string' ? preview(reply.message, MAX_MESSAGE_CHARS) : undefined;
  const message = ok ? saidMessage : `HTTP ${status}${saidMessage ? `: ${saidMessage}` : ''}`;
  const metadata = stringRecord(reply?.metadata);
  return {
    status: state,
    ...(message !== undefined ? { message } : {}),
    lastCheck: Date.now(),
    responseTimeMs: Date.now() - started,
    ...(metadata ? { metadata } : {}),
  };
}

/** An unhealthy status for a check that could not be made (refused, timed out, …). */
export function failedHealth(message: string, started: number): HealthStatus {
  return {
    status: 'unhealthy',
    message,
    lastCheck: Date.now(),
    responseTimeMs: Date.now() - started,
  };
}

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  try {
    const value: unknown = parseJson(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') out[key] = item;
  }
  return out;
}
