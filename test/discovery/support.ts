import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const FIXTURE = new URL('../fixtures/discovery-plugin.mjs', import.meta.url).pathname;

/** The text of a plugin "binary": a node script with its own label (and so its own checksum). */
export function pluginScript(label: string): string {
  return `#!/usr/bin/env node\nprocess.env.PLUGIN_LABEL = ${JSON.stringify(label)};\nimport(${JSON.stringify(FIXTURE)});\n`;
}

/** Writes an executable plugin at `path` (mode 0755 unless told), atomically (temp + rename). */
export function writePlugin(path: string, label: string, mode = 0o755): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = join(dirname(path), `.${label}.${process.pid}.tmp`);
  writeFileSync(temp, pluginScript(label));
  chmodSync(temp, mode);
  renameSync(temp, path);
  return path;
}

/** The SHA-256 (hex) of a file, as `sha256sum` prints it. */
export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Settings that keep a test quick: fast startup retries and health checks. */
export const QUICK = {
  startup: { maxAttempts: 2, initialInterval: 50, maxInterval: 100, timeout: 5_000 },
  healthCheck: { interval: 500, timeout: 1_000 },
  retry: { maxRetries: 3, initialInterval: 10, maxInterval: 50 },
};

/** Retries `check` until it stops throwing (an assertion), or rethrows its last error at the end. */
export async function until(check: () => unknown, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
