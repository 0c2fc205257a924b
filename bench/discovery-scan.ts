/**
 * How long one discovery scan takes: a directory of 1,000 files of which 100 match the
 * patterns (the figure), and 10,000 / 1,000 for scale. Figures in docs/performance.md.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY } from '../src/config/defaults.js';
import { scanDirectories } from '../src/discovery/scanner.js';

async function measure(files: number, every: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plugwire-bench-scan-'));
  try {
    for (let i = 0; i < files; i++) {
      const path = join(dir, i % every === 0 ? `plugin-${i}` : `data-${i}.bin`);
      writeFileSync(path, '#!/bin/sh\n');
      chmodSync(path, 0o755);
    }
    const scan = () =>
      scanDirectories(
        { directories: [dir], patterns: ['plugin-*'] },
        { defaults: DEFAULT_POLICY, parse: {} },
      );
    await scan(); // warm-up (JIT, dentry cache)
    const runs: number[] = [];
    let found = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      found = (await scan()).found.length;
      runs.push(performance.now() - started);
    }
    runs.sort((a, b) => a - b);
    const median = runs[Math.floor(runs.length / 2)]!;
    console.log(
      `${files} files, ${found} plugins: median ${median.toFixed(1)} ms, worst ${runs.at(-1)!.toFixed(1)} ms (20 scans)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await measure(1_000, 10);
await measure(10_000, 10);
