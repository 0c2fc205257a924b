/**
 * Copies the own entries of `from` whose values are strings into `into` (nothing when `from` is
 * not an object) and returns `into`. What every SDK server does with the headers and metadata a
 * host sends, where anything but a string is dropped.
 *
 * A loop of plain stores into a fresh object: measured cheaper per request than
 * `Object.entries` (an array per entry) or spreading one record into another.
 */
export function addStrings(into: Record<string, string>, from: unknown): Record<string, string> {
  if (typeof from !== 'object' || from === null) return into;
  const record = from as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const value = record[key];
    if (typeof value === 'string') into[key] = value;
  }
  return into;
}
