/**
 * Which plugin config changes a running plugin can take without being recreated.
 *
 * A field is "in place" when the manager reads it from the plugin's slot (the pipeline, the
 * balancer, the health loop, the startup loop) rather than the transport having been built
 * with it. Everything else (where and how to connect, what to run, transport options) lives
 * inside the plugin instance, so changing it means a new instance.
 */

/**
 * Config fields a live plugin takes in place; a change anywhere else recreates the plugin.
 * An entry covers the field and everything below it (`labels` covers `labels.team`).
 */
export const IN_PLACE_FIELDS: readonly string[] = [
  // Routing: read by the manager and the group's balancer.
  'enabled',
  'weight',
  'priority',
  'group',
  'labels',
  'annotations',
  // Policies: held by the slot, rebuilt from config without touching the instance.
  'rateLimit',
  'circuitBreaker',
  'retry',
  'startup',
  // Health timing is the health loop's; the endpoint it probes is the transport's.
  'healthCheck.enabled',
  'healthCheck.interval',
  'healthCheck.timeout',
  'healthCheck.failureLimit',
  // The pipeline reads the per-call deadline cap on every call; the rest of `connection`
  // sizes pools and sockets inside the transport.
  'connection.requestTimeout',
  // The pipeline reads the queue bound on every call too.
  'connection.maxPending',
];

/** How a changed plugin is brought to its new config. */
export type UpdateMode = 'in-place' | 'recreate';

/**
 * Whether a change at `path` (as reported by `diffConfigs()`) can be applied to the running
 * plugin. Unknown paths recreate: a new field is safe by default until it is listed here.
 */
export function canApplyInPlace(path: string): boolean {
  for (const field of IN_PLACE_FIELDS) {
    if (path === field) return true;
    if (path.startsWith(field)) {
      const next = path.charCodeAt(field.length);
      if (next === 46 /* . */ || next === 91 /* [ */) return true;
    }
  }
  return false;
}

/** `in-place` when every change can be applied in place, else `recreate`. */
export function updateMode(changes: readonly string[]): UpdateMode {
  return changes.every(canApplyInPlace) ? 'in-place' : 'recreate';
}
