import { answerHealth, type HealthAnswer } from './health/answer.js';
import type { ExecutionContext, Plugin, PluginInfo } from './types.js';

/** What {@link definePlugin} needs: at least a name and an execute function. */
export interface InProcessPluginSpec<Req, Resp> {
  name: string;
  /** Return the response, or `throw applicationError(msg)` to answer "no". */
  execute(request: Req, ctx: ExecutionContext): Resp | Promise<Resp>;
  /** Default: healthy. Return a status or a boolean. */
  health?(signal: AbortSignal): HealthAnswer | Promise<HealthAnswer>;
  info?(): PluginInfo | Promise<PluginInfo>;
  start?(signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Builds an in-process {@link Plugin} from plain functions — for tests, for logic that lives in
 * the host, and for adapters. It goes through the same pipeline (deadline, retries, breaker) as a
 * remote plugin.
 */
export function definePlugin<Req = unknown, Resp = unknown>(
  spec: InProcessPluginSpec<Req, Resp>,
): Plugin<Req, Resp> {
  let closed = false;
  return {
    name: spec.name,
    info: () => (spec.info ? spec.info() : { name: spec.name }),
    async execute(request, ctx) {
      return spec.execute(request, ctx);
    },
    health(signal) {
      if (closed) {
        return Promise.resolve({
          status: 'offline',
          message: 'closed',
          lastCheck: Date.now(),
          responseTimeMs: 0,
        });
      }
      return answerHealth(spec.health?.bind(spec), signal);
    },
    ...(spec.start ? { start: (signal: AbortSignal) => spec.start!(signal) } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await spec.close?.();
    },
  };
}
