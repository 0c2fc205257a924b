/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time,
 * and this repository's own functions (src/, bench/) with the most total (inclusive) time.
 *
 * Run: node --loader ts-node/esm --no-warnings bench/transports/profile-summary.ts <file.cpuprofile> [top]
 *
 * Lines are those of the code V8 ran: for `src/` loaded through ts-node, the transpiled
 * JavaScript, which is close to but not always the TypeScript line.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parent.set(child, node.id);
}

const repo = new URL('../../', import.meta.url).href;
function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.startsWith(repo)
    ? url.slice(repo.length)
    : url.replace(/^.*node_modules\//, '');
  return `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i] ?? 0;
  total += us;
  let node = byId.get(profile.samples[i]!);
  if (!node) continue;
  const key = label(node);
  self.set(key, (self.get(key) ?? 0) + us);
  // Each function once per sample, however often it recurses.
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    node = byId.get(id)!;
    const url = node.callFrame.url;
    if (!url.startsWith(repo) || url.includes('/node_modules/')) continue;
    const name = label(node);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
}

function print(title: string, counts: Map<string, number>): void {
  console.log(`\n${title}\n`);
  const rows = [...counts].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of rows) {
    console.log(
      `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${name}`,
    );
  }
}

console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
print(`Self time, top ${top}`, self);
print(`Total time of this repository's functions, top ${top}`, inclusive);
