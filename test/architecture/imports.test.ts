// The import graph of src/ (type-only imports included) has no cycles and no upward edges:
// data flows config → model → slots → pipeline, and the facade (manager.ts) is imported by
// nothing but the public entry. Read with the TypeScript scanner, so it needs no extra tool.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts')
      ? [path]
      : [];
  });
}

/** file (relative to src/) → the src files it imports, statically or with import(). */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((ref) => ref.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
    graph.set(relative(SRC, file), [...new Set(targets)].sort());
  }
  return graph;
}

/** Every strongly connected component with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

test('the source files import each other without a cycle, type-only imports included', () => {
  assert.deepEqual(cycles(importGraph()), []);
});

test('nothing imports the manager facade but the public entry', () => {
  const importers = [...importGraph()]
    .filter(([, targets]) => targets.includes('manager.ts'))
    .map(([file]) => file);
  assert.deepEqual(importers, ['index.ts']);
});

test('the host-side transports never import the plugin-side SDK', () => {
  const upward = [...importGraph()].flatMap(([file, targets]) =>
    file.startsWith('transport/')
      ? targets.filter((t) => t.startsWith('sdk/')).map((t) => `${file} → ${t}`)
      : [],
  );
  assert.deepEqual(upward, []);
});

test('the reader of the graph sees type-only imports and import() types', () => {
  const graph = importGraph();
  // events.ts only names other modules' types: its edges must still be read.
  assert.ok((graph.get('events.ts') ?? []).length > 0);
  assert.ok(graph.get('index.ts')?.includes('manager.ts'));
});
