import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { errnoCode } from '../errors.js';

/**
 * Why a path must not be trusted, or undefined when it may be. Only the host's own user and
 * root may be able to change what discovery runs: a file or directory that its group or others
 * can write, or that another user owns, is refused (on platforms without POSIX owners, such as
 * Windows, only the type is checked).
 */
export function unsafeOwnership(stats: Stats, what: string): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  if (stats.uid !== uid && stats.uid !== 0) {
    return `${what} is owned by uid ${stats.uid}, not by the host's user (${uid}) or root`;
  }
  if ((stats.mode & 0o022) !== 0) {
    const who = (stats.mode & 0o002) !== 0 ? 'others' : 'its group';
    const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
    return `${what} is writable by ${who} (mode ${mode}); run chmod go-w on it`;
  }
  return undefined;
}

/** Whether `path` (already resolved) is `root` or lies inside it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** A file that passed {@link checkFile}: where it really is and what it is now. */
export interface CheckedFile {
  /** The path with every symlink resolved. */
  real: string;
  stats: Stats;
}

/**
 * Checks a path found in (or named by a manifest of) the scanned directory `root` (resolved):
 * it must resolve inside `root` (a symlink may point elsewhere inside it, as a Kubernetes
 * volume's `..data` links do), be a regular file (or a directory, when `kind` says so), and be
 * safe by {@link unsafeOwnership}. Returns the problem as a sentence, or the checked file.
 */
export async function checkFile(
  root: string,
  path: string,
  kind: 'file' | 'directory' = 'file',
): Promise<CheckedFile | string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') {
      // A dangling symlink, or the file vanished: say which.
      const isLink = await lstat(path).then(
        (s) => s.isSymbolicLink(),
        () => false,
      );
      return isLink ? `${path} is a symlink to a missing file` : `${path} does not exist`;
    }
    return `cannot resolve ${path} (${code ?? String(error)})`;
  }
  if (!isInside(root, real)) {
    return `${path} leads outside ${root} (to ${real}); discovery only runs files inside the scanned directory`;
  }
  let stats: Stats;
  try {
    stats = await stat(real);
  } catch (error) {
    return `cannot read ${path} (${errnoCode(error) ?? String(error)})`;
  }
  if (kind === 'file' && !stats.isFile()) return `${path} is not a regular file`;
  if (kind === 'directory' && !stats.isDirectory()) return `${path} is not a directory`;
  const unsafe = unsafeOwnership(stats, path);
  if (unsafe !== undefined) return unsafe;
  // A file reached through a sub-folder (a volume's `..2026_01_01` folder): that folder decides
  // who can replace it, so it must be safe too. The root itself is checked by the scan.
  const parent = dirname(real);
  if (parent !== root) {
    const parentStats = await stat(parent).catch(() => undefined);
    if (parentStats === undefined) return `cannot read ${parent}`;
    const unsafeParent = unsafeOwnership(parentStats, parent);
    if (unsafeParent !== undefined) return unsafeParent;
  }
  return { real, stats };
}

/** Whether the file may be executed by the host's user (any x bit on non-POSIX platforms). */
export function isExecutable(stats: Stats): boolean {
  return (stats.mode & 0o111) !== 0;
}
