// The package as an installed user gets it: `npm pack`, unpacked into node_modules/plugwire of
// small consumer projects, compiled by tsc with `skipLibCheck: false` (so every declaration file
// we ship is checked) under each tsconfig the README lists as supported, with and without the
// optional peers installed; some of them are then run with node. Needs dist/ (`npm run build`,
// which `npm test` runs first). No network: runtime dependencies are linked from our node_modules.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ROOT } from '../support/scripts.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
const PROJECT = join(ROOT, 'test/consumers/project');
const TSC = join(ROOT, 'node_modules/typescript/lib/tsc.js');
const PEERS = ['prom-client', '@opentelemetry/api'];

interface Setting {
  name: string;
  /** `type` of the consumer's package.json. */
  type: 'module' | 'commonjs';
  compilerOptions: Record<string, unknown>;
  /** Run the compiled host with node (it serves a plugin with the SDK and calls it). */
  run?: boolean;
  /** Also compile with the optional peers installed, passing their real objects to plugwire. */
  peers?: boolean;
}

/** Settings of a strict host; each setting adds its module options. */
const STRICT = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  verbatimModuleSyntax: false,
};

/** The tsconfig settings the README's "TypeScript settings" section promises. */
const SETTINGS: Setting[] = [
  {
    name: 'nodenext-esm',
    type: 'module',
    compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' },
    run: true,
    peers: true,
  },
  {
    name: 'nodenext-cjs',
    type: 'commonjs',
    compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' },
    run: true,
    peers: true,
  },
  {
    name: 'node20-cjs',
    type: 'commonjs',
    compilerOptions: { ...STRICT, module: 'node20' },
  },
  {
    name: 'node16-esm',
    type: 'module',
    compilerOptions: { ...STRICT, module: 'node16', moduleResolution: 'node16' },
  },
  {
    name: 'bundler',
    type: 'module',
    // No `types`: every @types package installed is included, as tsc does by default.
    compilerOptions: { ...STRICT, module: 'esnext', moduleResolution: 'bundler', types: undefined },
  },
  {
    name: 'node10-cjs',
    type: 'commonjs',
    // A legacy CommonJS host: node10 resolution (no `exports`: `plugwire/sdk` resolves through
    // `typesVersions`), an older target and lib, and not strict.
    compilerOptions: {
      strict: false,
      module: 'commonjs',
      moduleResolution: 'node10',
      target: 'es2020',
      lib: ['es2020'],
    },
    run: true,
    peers: true,
  },
];

let tmp: { dir: string; remove(): void };
/** node_modules trees: the package and its dependencies, with or without the optional peers. */
let trees: { withPeers: string; noPeers: string };
let packageDir: string;

before(async () => {
  assert.ok(existsSync(join(ROOT, 'dist/index.d.ts')), 'dist/ is missing: run `npm run build`');
  tmp = tempDir('plugwire-consumers-');
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir],
    { cwd: ROOT },
  );
  const tarball = join(tmp.dir, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const linked = [...Object.keys(manifest.dependencies), '@types/node'];
  trees = {
    withPeers: makeTree('with-peers', tarball, [...linked, ...PEERS]),
    noPeers: makeTree('no-peers', tarball, linked),
  };
  packageDir = join(trees.noPeers, 'node_modules/plugwire');
  // "Without the peers" must mean it: no node_modules above the temp dir may provide them.
  for (let dir = tmp.dir; dir !== dirname(dir); dir = dirname(dir)) {
    for (const peer of PEERS) assert.ok(!existsSync(join(dirname(dir), 'node_modules', peer)));
  }
});

after(() => tmp?.remove());

/** `<tmp>/<name>/node_modules`: the unpacked tarball, and links to our installed `packages`. */
function makeTree(name: string, tarball: string, packages: string[]): string {
  const tree = join(tmp.dir, name);
  const target = join(tree, 'node_modules/plugwire');
  mkdirSync(target, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  assert.equal(untar.status, 0, String(untar.stderr));
  for (const pkg of packages) {
    const link = join(tree, 'node_modules', pkg);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', pkg), link, 'dir');
  }
  return tree;
}

/** A consumer project under `tree`: a package.json, a tsconfig and `files` from ./project. */
function makeProject(
  tree: string,
  name: string,
  type: Setting['type'],
  compilerOptions: Record<string, unknown>,
  files: string[],
): string {
  const dir = join(tree, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
  const tsconfig = {
    compilerOptions: {
      target: 'es2022',
      lib: ['es2023'],
      types: ['node'],
      skipLibCheck: false,
      // TypeScript's own lib.*.d.ts need no checking here (a real host checks them too: time).
      skipDefaultLibCheck: true,
      outDir: 'out',
      rootDir: '.',
      ...compilerOptions,
    },
    files,
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  for (const file of files) copyFileSync(join(PROJECT, file), join(dir, file));
  return dir;
}

/** Runs tsc on a project: its exit code and its diagnostics. */
async function tsc(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [TSC, '-p', dir, '--pretty', 'false'], {
      cwd: dir,
    });
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe(
  'the packed package compiles in consumer projects with skipLibCheck: false',
  {
    concurrency: 2,
  },
  () => {
    for (const setting of SETTINGS) {
      // Without the peers for every setting (the declarations must not need them); with them
      // (real prom-client and OpenTelemetry objects passed to plugwire) for one ESM and two
      // CommonJS resolutions: the structural peer types read the same under every setting.
      for (const peers of setting.peers ? [false, true] : [false]) {
        const label = `${setting.name}, ${peers ? 'with' : 'without'} the optional peers`;
        test(label, async () => {
          const tree = peers ? trees.withPeers : trees.noPeers;
          const files = peers ? ['host.ts', 'peers.ts'] : ['host.ts'];
          const dir = makeProject(tree, setting.name, setting.type, setting.compilerOptions, files);
          const { code, output } = await tsc(dir);
          assert.equal(code, 0, output);
          if (setting.run && !peers) await runHost(dir);
        });
      }
    }
  },
);

/**
 * Runs the compiled host: it serves a plugin over HTTP with `plugwire/sdk`, loads it into a
 * `Manager` beside an in-process plugin, and calls both (no optional peer installed).
 */
async function runHost(dir: string): Promise<void> {
  const { stdout } = await run(process.execPath, [join(dir, 'out/host.js')], {
    cwd: dir,
    timeout: 30_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.deepEqual(result, {
    remote: { upper: 'OVER HTTP', requestId: 'req-1' },
    local: result.local, // its request id is generated
    refusedCode: 'PLUGIN_1208',
    applicationErrorCode: 'PLUGIN_1208',
    missingCode: 'PLUGIN_1201',
    ready: true,
    remoteTransport: 'http',
    removed: ['remote'],
    probe: 'function',
    prometheusPrefix: 'consumer_',
    spans: true,
  });
  assert.equal((result.local as { upper: string }).upper, 'IN PROCESS');
}

test('CommonJS output of module node16 cannot import the ESM-only package (use nodenext or node20)', async () => {
  const dir = makeProject(
    trees.noPeers,
    'node16-cjs',
    'commonjs',
    { ...STRICT, module: 'node16', moduleResolution: 'node16' },
    ['host.ts'],
  );
  const { code, output } = await tsc(dir);
  assert.notEqual(code, 0);
  assert.match(output, /host\.ts\(\d+,\d+\): error TS1479: .*ECMAScript module/);
});

test('the matrix reports errors: in a consumer, and in a shipped declaration file', async () => {
  // A copy of the package whose entry declaration carries the kind of type-level assertion
  // that once reached dist (TS2344 inside node_modules, only seen with skipLibCheck: false).
  const tree = join(tmp.dir, 'broken');
  cpSync(trees.noPeers, tree, { recursive: true, verbatimSymlinks: true });
  const entry = join(tree, 'node_modules/plugwire/dist/index.d.ts');
  writeFileSync(
    entry,
    `${readFileSync(entry, 'utf8')}\ntype IsTrue<T extends true> = T;\nexport type Proof = IsTrue<false>;\n`,
  );
  const dir = makeProject(
    tree,
    'broken',
    'module',
    { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' },
    ['broken.ts'],
  );
  const { code, output } = await tsc(dir);
  assert.notEqual(code, 0);
  assert.match(output, /broken\.ts\(5,14\): error TS2322/);
  assert.match(output, /node_modules\/plugwire\/dist\/index\.d\.ts\(\d+,\d+\): error TS2344/);
});

test('the public declarations import nothing but node builtins and their own files', () => {
  const external = new Map<string, string[]>();
  const seen = new Set<string>();
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    exports: Record<string, { types?: string } | string>;
  };
  const entries = Object.values(manifest.exports).flatMap((e) =>
    typeof e === 'object' && e.types ? [join(packageDir, e.types)] : [],
  );
  assert.equal(entries.length, 2);
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|reference\s+types=)['"]([^'"]+)['"]/g,
    )) {
      if (specifier!.startsWith('.')) {
        queue.push(resolve(dirname(file), specifier!.replace(/\.js$/, '.d.ts')));
      } else {
        external.set(specifier!, [...(external.get(specifier!) ?? []), relative(packageDir, file)]);
      }
    }
  }
  assert.ok(seen.size > 10, `only ${seen.size} declaration files reached`);
  const foreign = [...external].filter(([specifier]) => !specifier.startsWith('node:'));
  assert.deepEqual(foreign, [], 'public declarations must not need zod or the optional peers');
});

test('an installed package says where it comes from, and every docs path it names is inside it', () => {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.deepEqual(manifest.repository, {
    type: 'git',
    url: 'git+https://github.com/plugwire/plugwire.git',
  });
  assert.equal(manifest.homepage, 'https://github.com/plugwire/plugwire#readme');
  assert.deepEqual(manifest.bugs, { url: 'https://github.com/plugwire/plugwire/issues' });

  // Relative links of the shipped Markdown (README, CHANGELOG, docs/) resolve to shipped files.
  const markdown = ['README.md', 'CHANGELOG.md', ...listFiles(packageDir, 'docs')].filter((f) =>
    f.endsWith('.md'),
  );
  assert.ok(markdown.includes('docs/protocol/unix.md'), 'docs/ is not in the package');
  const dangling: string[] = [];
  for (const file of markdown) {
    const text = readFileSync(join(packageDir, file), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
      if (!existsSync(join(packageDir, dirname(file), target!)))
        dangling.push(`${file}: ${target}`);
    }
  }
  // `docs/….md` named in TSDoc and messages of the shipped code and declarations.
  for (const file of listFiles(packageDir, 'dist').filter((f) => /\.(js|d\.ts)$/.test(f))) {
    for (const [path] of readFileSync(join(packageDir, file), 'utf8').matchAll(
      /\bdocs\/[\w/.-]+\.md\b/g,
    )) {
      if (!existsSync(join(packageDir, path))) dangling.push(`${file}: ${path}`);
    }
  }
  assert.deepEqual(dangling, []);
  assert.ok(!existsSync(join(packageDir, 'docs/api')), 'the generated API site is not shipped');
});

test('every source map and declaration map points at sources the package ships', () => {
  const maps = listFiles(packageDir, 'dist').filter((f) => f.endsWith('.map'));
  assert.ok(maps.some((f) => f.endsWith('.d.ts.map')) && maps.some((f) => f.endsWith('.js.map')));
  const missing: string[] = [];
  for (const map of maps) {
    const { sources, sourceRoot = '' } = JSON.parse(
      readFileSync(join(packageDir, map), 'utf8'),
    ) as { sources: string[]; sourceRoot?: string };
    for (const source of sources) {
      const path = resolve(packageDir, dirname(map), sourceRoot, source);
      if (!path.startsWith(packageDir + '/') || !existsSync(path))
        missing.push(`${map}: ${source}`);
    }
  }
  assert.deepEqual(missing, []);
  // Tests and test fakes stay out of the package.
  const shipped = listFiles(packageDir, 'src');
  assert.deepEqual(
    shipped.filter((f) => f.endsWith('.test.ts') || f.includes('/testing/')),
    [],
  );
});

test("both entries share one copy of every module, and import no package they don't use", async () => {
  // The bundle's two entries ('plugwire', 'plugwire/sdk') share chunks: an error made by the SDK
  // is a PluginError of the main entry. Packages load on demand only: the SDK asks for none, the
  // main entry for its config schema's alone (zod), and a transport's
  // package is asked for when a plugin of it is created (blocked here: the error names it).
  const dir = join(trees.noPeers, 'entries');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'entries', type: 'module' }));
  copyFileSync(join(PROJECT, 'entries.mjs'), join(dir, 'entries.mjs'));
  const log = join(dir, 'deps.log');
  writeFileSync(log, '');
  const hook = join(ROOT, 'test/fixtures/log-packages.mjs');
  const { stdout } = await run(
    process.execPath,
    ['--import', hook, '--no-warnings', join(dir, 'entries.mjs')],
    {
      cwd: dir,
      timeout: 30_000,
      env: {
        ...process.env,
        DEPS_LOG: log,
        LOG_PACKAGES_ROOT: pathToFileURL(realpathSync(packageDir)).href + '/',
        BLOCK_PACKAGES: 'undici,@grpc/grpc-js',
      },
    },
  );
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;
  assert.deepEqual(out.afterSdk, [], "import 'plugwire/sdk' asked for no package");
  assert.deepEqual([...new Set(out.afterMain)], ['zod']);
  assert.deepEqual(out.afterLocal, out.afterMain, 'an in-process plugin asked for nothing more');
  assert.equal(out.local, 42);
  assert.ok(out.identity.sharedNames >= 4, JSON.stringify(out.identity));
  assert.deepEqual(out.identity.notShared, []);
  assert.equal(out.identity.samePluginError, true);
  assert.equal(out.identity.instanceAcross, true);
  assert.equal(out.http.code, 'TRANSPORT_1301', out.http.message);
  assert.match(out.http.message, /needs the package undici/);
  assert.equal(out.grpc.code, 'TRANSPORT_1302', out.grpc.message);
  assert.match(out.grpc.message, /needs the package @grpc\/grpc-js/);
  assert.ok(out.all.includes('undici') && out.all.includes('@grpc/grpc-js'), out.all.join());
});

test('the lazily imported transports and SDK servers are not in the static graph of an entry', () => {
  // What each JavaScript file of dist/ holds, by its source map; what each entry loads up front,
  // by following static imports (`import … from "./x.js"`, not `import("./x.js")`).
  const sourcesOf = (file: string): string[] => {
    const map = JSON.parse(readFileSync(join(packageDir, `${file}.map`), 'utf8')) as {
      sources: string[];
    };
    return map.sources.map((source) =>
      relative(packageDir, resolve(packageDir, dirname(file), source)),
    );
  };
  const staticGraph = (entry: string): Set<string> => {
    const seen = new Set<string>();
    const queue = [entry];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(join(packageDir, file), 'utf8');
      for (const [, specifier] of text.matchAll(
        /^(?:import|export)\b[^;]*?(?:\bfrom\s*)?["'](\.[^"']+)["'];?$/gm,
      ))
        queue.push(relative(packageDir, resolve(packageDir, dirname(file), specifier!)));
    }
    return seen;
  };
  const lazy = [
    'src/transport/http/plugin.ts',
    'src/transport/grpc/plugin.ts',
    'src/sdk/httpServer.ts',
    'src/sdk/unixServer.ts',
    'src/sdk/grpcServer.ts',
  ];
  const js = listFiles(packageDir, 'dist').filter((f) => f.endsWith('.js'));
  const shipped = new Set(js.flatMap(sourcesOf));
  for (const source of lazy) assert.ok(shipped.has(source), `${source} is in no file of dist/`);
  for (const entry of ['dist/index.js', 'dist/sdk/index.js', 'dist/cli/main.js']) {
    const graph = staticGraph(entry);
    assert.ok(graph.size > 1, `${entry} imports nothing: the pattern missed its imports`);
    const loaded = new Set([...graph].flatMap(sourcesOf));
    assert.ok(loaded.has('src/errors.ts'), `${entry}: ${[...loaded].join(', ')}`);
    assert.deepEqual(
      lazy.filter((source) => loaded.has(source)),
      [],
      `${entry} loads a lazy module up front`,
    );
  }
});

/** Files under `dir` of `root`, as paths relative to `root`. */
function listFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(root, path) : [path];
  });
}
