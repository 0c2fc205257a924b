import { dirname } from 'node:path';
import { realpath, stat } from 'node:fs/promises';
import type { DiscoveryConfig, PluginConfig } from '../config/types.js';
import { ErrorCode, PluginError } from '../errors.js';
import { matchesChecksum, sha256File, trustedChecksum } from './checksums.js';
import { checkFile, unsafeOwnership } from './safety.js';
import type { DiscoveredOrigin } from './scanner.js';
import { errorMessage } from '../internal/errorMessage.js';

/** The origin a scan stamped on a discovered plugin's config, or undefined for any other plugin. */
export function discoveredOrigin(config: PluginConfig): DiscoveredOrigin | undefined {
  const origin = config.options.discovered;
  if (typeof origin !== 'object' || origin === null) return undefined;
  const { directory, path } = origin as Partial<DiscoveredOrigin>;
  return typeof directory === 'string' && typeof path === 'string'
    ? (origin as DiscoveredOrigin)
    : undefined;
}

/** What a verification found: the hash is given only when one was computed. */
export interface Verified {
  executable: string;
  sha256?: string | undefined;
}

/**
 * Checks a discovered exec plugin's binary right before it is spawned (every start and every
 * restart): it must still be a regular file inside its directory, writable only by the host's
 * user or root, and, when the host trusts a checksum for it, its SHA-256 (streamed from disk)
 * must equal that checksum (compared in constant time). With `requireChecksums`, a binary
 * without a trusted checksum is refused too.
 *
 * @throws {PluginError} `PLUGIN_1212`, not retryable, saying why.
 */
export async function verifyExecutable(
  config: PluginConfig,
  origin: DiscoveredOrigin,
  settings: Pick<DiscoveryConfig, 'checksums' | 'sumsFile' | 'requireChecksums'>,
): Promise<Verified> {
  const executable = config.executable ?? '';
  const refuse = (reason: string, details: Record<string, unknown> = {}): never => {
    throw new PluginError(
      ErrorCode.PluginVerificationFailed,
      `Refusing to run '${config.name}': ${reason}`,
      { plugin: config.name, retryable: false, details: { executable, ...details } },
    );
  };
  let root: string;
  try {
    root = await realpath(origin.directory);
  } catch {
    return refuse(`its directory ${origin.directory} is gone`);
  }
  const rootStats = await stat(root).catch(() => undefined);
  const unsafeRoot = rootStats && unsafeOwnership(rootStats, origin.directory);
  if (unsafeRoot !== undefined) return refuse(unsafeRoot);
  const checked = await checkFile(root, executable);
  if (typeof checked === 'string') return refuse(checked);
  // The folder of a folder plugin decides who can replace the binary, as the directory does.
  if (dirname(checked.real) !== root) {
    const folder = await checkFile(root, dirname(checked.real), 'directory');
    if (typeof folder === 'string') return refuse(folder);
  }
  let trusted;
  try {
    trusted = await trustedChecksum(settings, origin.directory, executable);
  } catch (error) {
    return refuse(errorMessage(error));
  }
  if (trusted === undefined) {
    if (settings.requireChecksums) {
      return refuse(
        `no trusted SHA-256 for ${executable} and discovery.requireChecksums is on; add it to discovery.checksums or discovery.sumsFile`,
      );
    }
    return { executable };
  }
  let digest: Buffer;
  try {
    digest = await sha256File(checked.real);
  } catch (error) {
    return refuse(`cannot read ${executable} to hash it (${String(error)})`);
  }
  if (!matchesChecksum(digest, trusted.hex)) {
    const found = digest.toString('hex');
    return refuse(
      `the SHA-256 of ${executable} (${found}) does not match the one trusted in ${trusted.source} (${trusted.hex})`,
      { expected: trusted.hex, found, source: trusted.source },
    );
  }
  return { executable, sha256: trusted.hex };
}
