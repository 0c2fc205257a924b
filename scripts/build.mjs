// `npm run build`: the shipped package in dist/.
//   1. dist/ is removed (nothing stale is ever packed);
//   2. esbuild bundles the three entry points (dist/index.js, dist/sdk/index.js and the bin
//      dist/cli/main.js) as ESM with code splitting: a module the entries share is in ONE chunk
//      (so `PluginError` from 'plugwire' and from 'plugwire/sdk' is one class), and what the code
//      imports dynamically (a transport's plugin, an SDK server) stays a chunk of its own, loaded
//      only when used. Every package (undici, @grpc/*, zod, yaml, the optional peers) stays
//      external: it is imported by name, on demand, as before. Source maps point at src/*.ts,
//      which the package ships.
//   3. tsc writes the declarations (.d.ts and declaration maps) at the paths it always did
//      (tsconfig.build.json: emitDeclarationOnly). tsc also type-checks here.
// Why a bundle: a cold `import 'plugwire/sdk'` of ~24 files cost ~24 ms of module loading; a
// few files cost a few (docs/performance.md, "Cold start").
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');

/** The package's entry points (package.json `exports` and `bin`), relative to src/. */
export const ENTRIES = ['index.ts', 'sdk/index.ts', 'cli/main.ts'];

/**
 * Fewer, larger chunks. esbuild puts each module in a chunk by the set of entry points that
 * reach it, and counts every dynamically imported module (a transport's plugin, an SDK server) as
 * an entry of its own: left alone, the SDK's ~20 modules fall into ~10 small chunks (by which of
 * the lazy modules also use them), and `import 'plugwire/sdk'` loads 11 files instead of 2; each
 * costs the ESM loader about a millisecond at a cold start. So each module below imports
 * (statically) the entry whose code it runs beside anyway: then every module of that entry is
 * reached from the same set of entries and lands in one chunk. These imports load nothing more
 * at run time: a transport's plugin is imported by the main entry (already loaded), an SDK server
 * by the SDK entry. (The bin, its own process, takes the main entry, which includes the SDK's.)
 */
const BESIDE = 'plugwire-beside:';
const SDK = join(ROOT, 'src/sdk/index.ts');
const MAIN = join(ROOT, 'src/index.ts');
const RUNS_BESIDE = new Map([
  ['src/index.ts', [SDK]],
  ['src/cli/main.ts', [MAIN, SDK]],
  ['src/transport/http/plugin.ts', [MAIN, SDK]],
  ['src/transport/grpc/plugin.ts', [MAIN, SDK]],
  ['src/sdk/httpServer.ts', [SDK]],
  ['src/sdk/unixServer.ts', [SDK]],
  ['src/sdk/grpcServer.ts', [SDK]],
]);
/** @type {import('esbuild').Plugin} */
const oneChunkPerEntry = {
  name: 'one-chunk-per-entry',
  setup(build) {
    // Resolved here, not by esbuild: package.json's `"sideEffects": false` would drop an import
    // that binds nothing (a warning, "ignored-bare-import").
    build.onResolve({ filter: /^plugwire-beside:/ }, (args) => ({
      path: args.path.slice(BESIDE.length),
      sideEffects: true,
    }));
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const beside = RUNS_BESIDE.get(relative(ROOT, args.path).split(sep).join('/'));
      if (!beside) return undefined;
      const imports = beside.map((entry) => `import ${JSON.stringify(BESIDE + entry)};`).join('');
      // Appended on the last line: the source map's lines stay those of the file.
      return { contents: `${readFileSync(args.path, 'utf8')}\n${imports}\n`, loader: 'ts' };
    });
  },
};

rmSync(DIST, { recursive: true, force: true });

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ENTRIES.map((entry) => `src/${entry}`),
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  tsconfig: 'tsconfig.build.json',
  sourcemap: 'linked',
  // The package ships src/: the maps name the files instead of copying them.
  sourcesContent: false,
  // Where two modules declare the same top-level name, esbuild renames one (`parseConfig2`):
  // only stack traces show it (`node --enable-source-maps` maps them back to src/). No code
  // reads a function's `.name`; error names are set explicitly (`this.name = 'PluginError'`).
  keepNames: false,
  logLevel: 'warning',
  // The imports the plugin adds bind nothing, and package.json says `"sideEffects": false`:
  // esbuild leaves them out of the output (they load nothing, as intended) but still counts
  // them when it assigns modules to chunks, which is all they are for.
  logOverride: { 'ignored-bare-import': 'silent' },
  metafile: true,
  plugins: [oneChunkPerEntry],
});
for (const [file, beside] of RUNS_BESIDE) {
  if (!existsSync(join(ROOT, file)) || beside.some((entry) => !existsSync(entry)))
    throw new Error(`scripts/build.mjs: ${file} (or an entry it imports) does not exist`);
}
if (result.errors.length > 0) process.exit(1);

const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/lib/tsc.js'), '-p', 'tsconfig.build.json'],
  { cwd: ROOT, stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const outputs = result.metafile.outputs;
/** The files an entry loads up front: itself and what it imports statically, transitively. */
function loadedBy(entry) {
  const seen = new Set();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const dep of outputs[file].imports)
      if (!dep.external && dep.kind === 'import-statement') queue.push(dep.path);
  }
  return seen.size;
}
const files = Object.keys(outputs).filter((file) => file.endsWith('.js'));
const counts = ENTRIES.map((entry) => {
  const file = `dist/${entry.replace(/\.ts$/, '.js')}`;
  return `${file} loads ${loadedBy(file)}`;
});
console.log(
  `dist/: ${files.length} JavaScript files (esbuild; ${counts.join(', ')}), declarations (tsc)`,
);
// What the chunking above is for; an esbuild that chunks otherwise should fail here, not slow
// every SDK plugin's start unseen.
if (loadedBy('dist/sdk/index.js') > 2) {
  console.error(
    'scripts/build.mjs: dist/sdk/index.js loads more than 2 files: see oneChunkPerEntry',
  );
  process.exit(1);
}
