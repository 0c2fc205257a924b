import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { DiscoveryConfig } from '../config/types.js';
import { errnoCode } from '../errors.js';

/** A trusted checksum and where it came from (for messages). */
export interface TrustedChecksum {
  hex: string;
  source: string;
}

/**
 * Reads a `sha256sum`-style file: one `<64 hex>  <path>` per line (a `*` before the path, as
 * `sha256sum --binary` writes, is allowed); blank lines and `#` comments are skipped. Lines that
 * do not parse are reported by number, never guessed at.
 */
export function parseSums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(trimmed);
    if (match === null) bad.push(i + 1);
    else sums.set(match[2]!, match[1]!.toLowerCase());
  });
  if (bad.length > 0) {
    throw new Error(
      `${source}: line ${bad.join(', ')} not in "<sha256 hex>  <path>" form (as sha256sum prints)`,
    );
  }
  return sums;
}

/**
 * The checksum the host trusts for `file` (absolute) found in discovery directory `directory`:
 * from the config's `checksums` map first, then from `sumsFile`, which is read on every call so
 * that a deployment can update it together with the binary. A key is an absolute path or a path
 * relative to the discovery directory.
 */
export async function trustedChecksum(
  settings: Pick<DiscoveryConfig, 'checksums' | 'sumsFile'>,
  directory: string,
  file: string,
): Promise<TrustedChecksum | undefined> {
  const keys = [file, relative(directory, file)];
  for (const key of keys) {
    const hex = settings.checksums[key];
    if (hex !== undefined) return { hex: hex.toLowerCase(), source: 'discovery.checksums' };
  }
  if (settings.sumsFile === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(settings.sumsFile, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read discovery.sumsFile ${settings.sumsFile} (${errnoCode(error) ?? String(error)})`,
    );
  }
  const sums = parseSums(text, settings.sumsFile);
  for (const [path, hex] of sums) {
    const absolute = isAbsolute(path) ? path : resolve(directory, path);
    if (absolute === file) return { hex, source: settings.sumsFile };
  }
  return undefined;
}

/** The SHA-256 of a file, streamed (a large binary is never held in memory), as bytes. */
export function sha256File(path: string): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest()));
  });
}

/** Compares a digest with a trusted hex checksum in constant time. */
export function matchesChecksum(digest: Buffer, trustedHex: string): boolean {
  const trusted = Buffer.from(trustedHex, 'hex');
  return trusted.length === digest.length && timingSafeEqual(trusted, digest);
}
