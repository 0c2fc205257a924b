/**
 * The environment of an exec plugin's child: `PATH` from the host (so that `python3` or `node`
 * resolve) plus the config's `env` entries, and nothing else. The host's own environment often
 * holds credentials; a plugin gets only what its config gives it.
 */
export function childEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
