/**
 * Whole milliseconds left until `deadline` (epoch ms, as in `ExecutionContext.deadline`), rounded
 * down, or undefined when there is no finite deadline: what a transport tells a plugin.
 *
 * Measured on the clock the pipeline's deadline timer runs on (`performance.timeOrigin +
 * performance.now()`), not `Date.now()`, which is truncated to the millisecond and so reads up to
 * 1 ms early: a plugin must never be given more time than the host will wait.
 */
export function timeLeft(deadline: number): number | undefined {
  if (!Number.isFinite(deadline) || deadline <= 0) return undefined;
  return Math.floor(deadline - (performance.timeOrigin + performance.now()));
}
