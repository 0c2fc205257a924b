/**
 * Why a group member cannot take a call now, in the order it is checked: lifecycle first, then
 * the circuit breaker, then its queue, then health. Only `unhealthy` members may still be picked, in panic mode.
 */
export type BlockReason =
  | 'disabled'
  | 'starting'
  | 'failed'
  | 'draining'
  | 'closed'
  | 'circuit-open'
  | 'queue-full'
  | 'unhealthy';

/** The parts of a runtime plugin slot that decide whether it can take a call. */
export interface SlotView {
  readonly state: string;
  readonly config: { readonly enabled: boolean };
  readonly breaker: { canAcquire(): boolean } | undefined;
  readonly health: { readonly status: string };
  /** Whether its queue is full (`connection.maxPending`); absent: never. */
  readonly queueFull?: boolean;
}

/**
 * Why `slot` cannot take a call now, or undefined when it can. A ready, enabled slot whose
 * breaker would grant a permit is available unless its health is `unhealthy` or `offline`:
 * `unknown` (not checked yet) and `degraded` still take traffic, since health is never assumed
 * bad.
 */
export function blockReason(slot: SlotView): BlockReason | undefined {
  if (!slot.config.enabled) return 'disabled';
  switch (slot.state) {
    case 'ready':
      break;
    case 'pending':
    case 'starting':
      return 'starting';
    case 'failed':
      return 'failed';
    case 'draining':
      return 'draining';
    default:
      return 'closed';
  }
  if (slot.breaker !== undefined && !slot.breaker.canAcquire()) return 'circuit-open';
  if (slot.queueFull === true) return 'queue-full';
  const health = slot.health.status;
  return health === 'unhealthy' || health === 'offline' ? 'unhealthy' : undefined;
}
