import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { ErrorCode, PluginError, errnoCode } from '../../errors.js';
import type { PluginConfig } from '../../config/types.js';

/**
 * The TLS options of an `https` plugin: TLS 1.2 or later, the custom CA (`tls.caFile`, else
 * `auth.caFile`), the client certificate for mTLS (`tls.certFile`/`keyFile`, else
 * `auth.certFile`/`keyFile`), `tls.serverName` and `insecureSkipVerify`.
 *
 * Files are read here, once, when the plugin starts: a missing file fails the start with an error
 * that names the file (never its content), and no call pays for disk access.
 */
export async function loadTlsOptions(config: PluginConfig): Promise<ConnectionOptions> {
  const { tls, auth } = config;
  const options: ConnectionOptions = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: !(tls?.insecureSkipVerify ?? false),
  };
  if (tls?.serverName) options.servername = tls.serverName;

  const caFile = tls?.caFile ?? auth.caFile;
  if (caFile)
    options.ca = await readPem(config, tls?.caFile ? 'tls.caFile' : 'auth.caFile', caFile);

  const certFile = tls?.certFile ?? auth.certFile;
  const keyFile = tls?.keyFile ?? auth.keyFile;
  if (auth.method === 'mtls' && (!certFile || !keyFile)) {
    throw new PluginError(
      ErrorCode.MissingMTLSCerts,
      `plugin "${config.name}" uses mTLS but has no client ${certFile ? 'key' : 'certificate'}: set auth.certFile and auth.keyFile`,
      { plugin: config.name },
    );
  }
  if (certFile && keyFile) {
    const certField = tls?.certFile ? 'tls.certFile' : 'auth.certFile';
    const keyField = tls?.keyFile ? 'tls.keyFile' : 'auth.keyFile';
    [options.cert, options.key] = await Promise.all([
      readPem(config, certField, certFile),
      readPem(config, keyField, keyFile),
    ]);
  }
  return options;
}

async function readPem(config: PluginConfig, field: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code =
      field.startsWith('auth.') && config.auth.method === 'mtls'
        ? ErrorCode.MissingMTLSCerts
        : ErrorCode.InvalidConfig;
    // Only the path and the errno go into the message: the file may be a private key.
    throw new PluginError(
      code,
      `plugin "${config.name}": cannot read ${field} "${file}" (${errnoCode(error) ?? 'unreadable'})`,
      { plugin: config.name, cause: error, details: { field, file } },
    );
  }
}
