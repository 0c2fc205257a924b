import type { OutlierEvent } from '../balance/OutlierDetector.js';
import type { TypedEvents } from '../events.js';
import type { Logger } from '../types.js';

/**
 * Turns a group's ejections into the manager's `outlier-ejected` / `outlier-returned` events
 * (which the Prometheus collector counts) and log lines; `ejected` is told of each ejection
 * (cluster mode publishes it as a hint to the other replicas).
 */
export function outlierReporter(
  events: TypedEvents,
  logger: Logger,
  ejected?: (plugin: string) => void,
): (group: string, event: OutlierEvent) => void {
  return (group, event) => {
    const plugin = event.member.name;
    if (event.kind === 'ejected') {
      const payload = {
        group,
        plugin,
        ejections: event.ejections,
        durationMs: event.durationMs,
        consecutiveFailures: event.consecutiveFailures,
      };
      logger.warn(payload, `plugwire: '${plugin}' ejected from group '${group}'`);
      events.emit('outlier-ejected', payload);
      ejected?.(plugin);
    } else {
      const payload = { group, plugin, ejections: event.ejections, ejectedForMs: event.durationMs };
      logger.info(payload, `plugwire: '${plugin}' is back in group '${group}'`);
      events.emit('outlier-returned', payload);
    }
  };
}
