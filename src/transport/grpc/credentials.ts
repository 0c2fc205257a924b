import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { credentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions, VerifyOptions } from '@grpc/grpc-js';
import type { PluginConfig } from '../../config/types.js';
import { ErrorCode, PluginError, errnoCode } from '../../errors.js';
import { TLS_TRANSPORTS } from './metadata.js';

// Moved to metadata.ts (no grpc-js there, for config validation); kept here for importers.
export { TLS_TRANSPORTS, authMetadata } from './metadata.js';

/**
 * Channel credentials for a plugin: insecure for `grpc`; for `grpc-tls`, a TLS context built from
 * `tls.caFile` (or `auth.caFile`) and, for mTLS, the client certificate and key (`auth.certFile`/
 * `auth.keyFile`, or the `tls` ones). Files are read now, so a missing or invalid file fails
 * `start()` with an error naming the field and the path.
 *
 * The second value is the channel options TLS needs (`tls.serverName` overrides the name checked
 * in the server certificate and the `:authority` sent).
 */
export function channelCredentials(config: PluginConfig): [ChannelCredentials, ChannelOptions] {
  if (!TLS_TRANSPORTS.has(config.transport)) return [credentials.createInsecure(), {}];
  const { tls } = config;
  const context = secureContext(config.name, tlsFiles(config));
  const verify: VerifyOptions = {};
  if (tls?.insecureSkipVerify) {
    verify.rejectUnauthorized = false;
    verify.checkServerIdentity = () => undefined;
  }
  const options: ChannelOptions = {};
  if (tls?.serverName) {
    options['grpc.ssl_target_name_override'] = tls.serverName;
    options['grpc.default_authority'] = tls.serverName;
  }
  return [credentials.createFromSecureContext(context, verify), options];
}

/** A TLS file as read from disk, with the config field it came from (for error messages). */
interface TlsFile {
  field: string;
  path: string;
  pem: Buffer;
}

function tlsFiles(config: PluginConfig): { ca?: TlsFile; cert?: TlsFile; key?: TlsFile } {
  const { tls, auth, name } = config;
  const mtls = auth.method === 'mtls';
  const pick = (choices: Array<[string, string | undefined]>): TlsFile | undefined => {
    const chosen = choices.find(([, path]) => path);
    return chosen ? readTlsFile(name, chosen[0], chosen[1]!) : undefined;
  };
  const files = {
    ca: pick([
      ['tls.caFile', tls?.caFile],
      ['auth.caFile', auth.caFile],
    ]),
    cert: pick([
      ['auth.certFile', mtls ? auth.certFile : undefined],
      ['tls.certFile', tls?.certFile],
    ]),
    key: pick([
      ['auth.keyFile', mtls ? auth.keyFile : undefined],
      ['tls.keyFile', tls?.keyFile],
    ]),
  };
  if (mtls && (!files.cert || !files.key)) {
    throw new PluginError(
      ErrorCode.MissingMTLSCerts,
      `plugin "${name}": mTLS needs both auth.certFile and auth.keyFile`,
      { plugin: name, retryable: false },
    );
  }
  return files;
}

function secureContext(
  plugin: string,
  files: { ca?: TlsFile; cert?: TlsFile; key?: TlsFile },
): SecureContext {
  const { ca, cert, key } = files;
  // createSecureContext ignores a CA file holding no certificate: parse each one to catch that.
  for (const file of [ca, cert]) {
    if (!file) continue;
    try {
      new X509Certificate(file.pem);
    } catch (error) {
      throw unusable(plugin, `${file.field} "${file.path}" is not a PEM certificate`, error);
    }
  }
  try {
    return createSecureContext({
      ...(ca ? { ca: ca.pem } : {}),
      ...(cert ? { cert: cert.pem } : {}),
      ...(key ? { key: key.pem } : {}),
    });
  } catch (error) {
    const names = [cert, key].filter(Boolean).map((file) => `${file!.field} "${file!.path}"`);
    throw unusable(
      plugin,
      `${names.join(' and ')} do not form a usable certificate and key`,
      error,
    );
  }
}

function unusable(plugin: string, what: string, cause: unknown): PluginError {
  return new PluginError(
    ErrorCode.MissingMTLSCerts,
    `plugin "${plugin}": ${what} (${(cause as Error).message})`,
    { plugin, retryable: false, cause },
  );
}

function readTlsFile(plugin: string, field: string, path: string): TlsFile {
  try {
    return { field, path, pem: readFileSync(path) };
  } catch (error) {
    throw new PluginError(
      ErrorCode.MissingMTLSCerts,
      `plugin "${plugin}": cannot read ${field} "${path}" (${errnoCode(error) ?? (error as Error).message})`,
      { plugin, retryable: false, cause: error },
    );
  }
}
