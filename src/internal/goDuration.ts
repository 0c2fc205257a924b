/**
 * Writes whole milliseconds as Go's `time.Duration.String()` does, so that a Go plugin reads it
 * with `time.ParseDuration`: `"300ms"`, `"2.5s"`, `"1m30s"`, `"1h0m0s"`; `0` (or less) is
 * `"0s"`. Fractions of a millisecond are dropped, never rounded up: a deadline sent this way is
 * never later than the real one.
 */
export function formatGoDuration(ms: number): string {
  const total = Math.floor(ms);
  if (!(total > 0)) return '0s';
  if (total < 1_000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const inMinute = total % 60_000;
  const fraction = inMinute % 1_000;
  const seconds =
    fraction === 0
      ? `${(inMinute - fraction) / 1_000}`
      : `${(inMinute - fraction) / 1_000}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
