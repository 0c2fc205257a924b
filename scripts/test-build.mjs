// The compiled test tree the test runner runs: tsc (tsconfig.test.json: the type check of
// tsconfig.json, emitting) writes src/, test/, examples/ and bench/ as JavaScript into
// .test-build/, once, instead of ts-node transpiling every module again in every test process.
// Around the emitted files, .test-build/ is made to look like the repository, so that paths
// resolved relative to import.meta.url keep working: every other file of src/ and test/ (fixtures
// of any kind: .mjs, .py, .go, .proto, .json, and the .ts sources themselves) is copied beside
// the output, and the repository's other top-level entries (proto/, docs/, node_modules/,
// package.json, …) are symlinked into it.
//
// `node scripts/test-build.mjs` type-checks and builds (exit status 1 on a type error: npm test
// runs it as its type check). scripts/run-tests.mjs calls `ensureTestBuild()`, which runs tsc
// only when a source file changed since the last build (tsc itself is incremental).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUT = join(ROOT, '.test-build');
const CONFIG = 'tsconfig.test.json';
/** Folders mirrored file by file (tsc emits their .ts files as .js beside the copies). */
const MIRRORED = ['src', 'test'];
/** Whatever changes the emitted code: the sources and the compiler's configuration. */
const INPUTS = ['src', 'test', 'examples', 'bench'];
const INPUT_FILES = ['tsconfig.json', CONFIG, 'package.json', 'package-lock.json'];
const STAMP = join(OUT, '.inputs');
const NOT_LINKED = new Set(['.git', '.test-build', ...MIRRORED]);

function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(path);
    return entry.isFile() || entry.isSymbolicLink() ? [path] : [];
  });
}

/** A digest of every input's path, size and modification time: cheap to compute. */
function inputsDigest() {
  const hash = createHash('sha1');
  const files = [
    ...INPUTS.flatMap((dir) => walk(join(ROOT, dir))),
    ...INPUT_FILES.map((f) => join(ROOT, f)),
  ];
  for (const file of files.sort()) {
    try {
      const stat = statSync(file);
      hash.update(`${relative(ROOT, file)}\0${stat.size}\0${stat.mtimeMs}\n`);
    } catch {
      hash.update(`${relative(ROOT, file)}\0missing\n`);
    }
  }
  return hash.digest('hex');
}

/** Runs tsc on tsconfig.test.json: its exit status (2: type errors, the code emitted anyway). */
function compile() {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'lib', 'tsc.js');
  const result = spawnSync(process.execPath, [tsc, '-p', CONFIG], { cwd: ROOT, stdio: 'inherit' });
  return result.status ?? 1;
}

/**
 * Copies a file when the copy is missing or differs in size or modification time; a symbolic
 * link is copied as the same link.
 */
function copyIfChanged(from, to) {
  if (lstatSync(from).isSymbolicLink()) {
    const target = readlinkSync(from);
    try {
      if (readlinkSync(to) === target) return;
      unlinkSync(to);
    } catch {
      mkdirSync(dirname(to), { recursive: true });
      rmSync(to, { force: true, recursive: true });
    }
    symlinkSync(target, to);
    return;
  }
  const source = statSync(from);
  let copy;
  try {
    copy = lstatSync(to);
  } catch {
    mkdirSync(dirname(to), { recursive: true });
  }
  if (copy?.isSymbolicLink())
    unlinkSync(to); // never write through a link into the sources
  else if (copy && copy.size === source.size && copy.mtimeMs === source.mtimeMs) return;
  copyFileSync(from, to);
  utimesSync(to, source.atime, source.mtime);
}

/** Makes .test-build/ look like the repository around the emitted JavaScript. */
function mirror() {
  mkdirSync(OUT, { recursive: true });
  for (const name of readdirSync(ROOT)) {
    if (NOT_LINKED.has(name)) continue;
    const link = join(OUT, name);
    try {
      lstatSync(link);
    } catch {
      symlinkSync(join('..', name), link);
    }
  }
  // dist/ may not exist yet (npm test builds it alongside).
  if (!existsSync(join(OUT, 'dist'))) {
    try {
      symlinkSync(join('..', 'dist'), join(OUT, 'dist'));
    } catch {
      // already a (dangling) link
    }
  }
  for (const dir of MIRRORED) {
    const sources = new Set(walk(join(ROOT, dir)).map((file) => relative(ROOT, file)));
    for (const file of sources) copyIfChanged(join(ROOT, file), join(OUT, file));
    // What a deleted or renamed source left behind: its copy and what tsc emitted for it.
    for (const built of walk(join(OUT, dir))) {
      const file = relative(OUT, built);
      const source = file.replace(/(\.d)?\.(js|ts)(\.map)?$/, '.ts');
      if (!sources.has(file) && !sources.has(source)) unlinkSync(built);
    }
  }
}

/**
 * Brings .test-build/ up to date: runs tsc when an input changed since the last build (a type
 * error is reported, and the code is emitted anyway, as ts-node's transpile-only mode ran it).
 */
export function ensureTestBuild() {
  const digest = inputsDigest();
  const previous = existsSync(STAMP) ? readFileSync(STAMP, 'utf8') : '';
  if (digest !== previous) {
    const status = compile();
    if (status !== 0 && status !== 2) throw new Error(`tsc -p ${CONFIG} failed (exit ${status})`);
    if (status === 2)
      console.error('tsc reported type errors (above); the tests run on the emitted code anyway');
    writeFileSync(STAMP, digest);
  }
  mirror();
}

/** `node scripts/test-build.mjs`: the type check that also emits the test build. */
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const digest = inputsDigest();
  const status = compile();
  mirror();
  if (status === 0 || status === 2) writeFileSync(STAMP, digest);
  process.exit(status === 0 ? 0 : 1);
}
