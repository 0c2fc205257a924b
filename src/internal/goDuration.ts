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
  const whole = (inMinute - fraction) / 1_000;
  // On every HTTP call (the time left): digits by arithmetic, no regex or padding.
  const seconds =
    fraction === 0
      ? `${whole}`
      : fraction % 100 === 0
        ? `${whole}.${fraction / 100}`
        : fraction % 10 === 0
          ? `${whole}.${fraction < 100 ? '0' : ''}${fraction / 10}`
          : `${whole}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
