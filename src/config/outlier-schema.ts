import { z } from 'zod';
import { keyed, type FieldKit } from './fields.js';
import type { OutlierDetectionConfig } from './types.js';

/**
 * Envoy's outlier detection defaults (`consecutive_5xx`, `base_ejection_time`,
 * `max_ejection_time`, `max_ejection_percent`, `interval`, `healthy_panic_threshold`).
 */
export const DEFAULT_OUTLIER_DETECTION: OutlierDetectionConfig = {
  enabled: true,
  consecutiveFailures: 5,
  baseEjectionTime: 30_000,
  maxEjectionTime: 300_000,
  maxEjectionPercent: 10,
  interval: 10_000,
  panicThreshold: 50,
};

/**
 * A group's `outlierDetection` section. Present (even `{}`) turns ejection on with Envoy's
 * defaults; `enabled: false` keeps the section and turns it off.
 */
export function outlierSchema(kit: FieldKit) {
  const base = DEFAULT_OUTLIER_DETECTION;
  return keyed(
    z.strictObject({
      enabled: kit.boolean().default(base.enabled),
      consecutiveFailures: kit.number(z.int().positive()).default(base.consecutiveFailures),
      baseEjectionTime: kit.duration('positive').default(base.baseEjectionTime),
      maxEjectionTime: kit.duration('positive').default(base.maxEjectionTime),
      maxEjectionPercent: kit.number(z.number().min(0).max(100)).default(base.maxEjectionPercent),
      interval: kit.duration('positive').default(base.interval),
      panicThreshold: kit.number(z.number().min(0).max(100)).default(base.panicThreshold),
    }),
  );
}
