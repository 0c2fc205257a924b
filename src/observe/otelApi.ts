/**
 * Loading `@opentelemetry/api`, an optional peer, on first use (host and SDK side alike). Kept
 * out of the public modules so that their declarations never name the peer.
 */
import type { TextMapPropagator, Tracer } from '@opentelemetry/api';
import { ErrorCode, PluginError } from '../errors.js';
import type { OtelPropagatorLike, OtelTracerLike } from './peerTypes.js';

export type OtelApi = typeof import('@opentelemetry/api');

export async function loadOtelApi(caller: string): Promise<OtelApi> {
  try {
    return await import('@opentelemetry/api');
  } catch (error) {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      `${caller} needs the optional peer dependency @opentelemetry/api: npm install @opentelemetry/api`,
      { cause: error },
    );
  }
}

/** The user's tracer, typed as what it is: an OpenTelemetry `Tracer` (see OtelTracerLike). */
export function otelTracer(tracer: OtelTracerLike): Tracer {
  return tracer as Tracer;
}

/** The user's propagator, typed as what it is (see OtelPropagatorLike). */
export function otelPropagator(propagator: OtelPropagatorLike): TextMapPropagator {
  return propagator as TextMapPropagator;
}
