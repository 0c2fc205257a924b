import type { PluginConfig } from '../../config/types.js';

// What config validation needs of gRPC, without importing @grpc/grpc-js.

/** The transport names that use TLS. */
export const TLS_TRANSPORTS: ReadonlySet<string> = new Set(['grpc-tls']);

/**
 * The call metadata entries that carry a plugin's credentials: `x-api-key` (api-key),
 * `authorization: Bearer …` (bearer), `authorization: Basic …` (basic), or the custom headers
 * with lower-cased names (custom). Computed once per plugin, added to every call.
 */
export function authMetadata(config: PluginConfig): Array<[string, string]> {
  const { auth } = config;
  switch (auth.method) {
    case 'api-key':
      return auth.apiKey ? [['x-api-key', auth.apiKey]] : [];
    case 'bearer':
      return auth.token ? [['authorization', `Bearer ${auth.token}`]] : [];
    case 'basic':
      return [
        [
          'authorization',
          `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`,
        ],
      ];
    case 'custom':
      return Object.entries(auth.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
    default:
      return [];
  }
}

const LEGAL_KEY = /^[:0-9a-z_.-]+$/;
const LEGAL_VALUE = /^[ -~]*$/;

/**
 * Why grpc-js would refuse `key: value` as string metadata (its `Metadata.set()` rules: a key of
 * lower-case token characters once lower-cased, not a `-bin` key, a printable ASCII value), or
 * undefined when it would take it.
 */
export function metadataProblem(key: string, value: string): string | undefined {
  const name = key.toLowerCase();
  if (!LEGAL_KEY.test(name)) return `metadata key "${name}" contains illegal characters`;
  if (name.endsWith('-bin')) return `metadata key "${name}" would need a binary value`;
  if (!LEGAL_VALUE.test(value)) return `the value of metadata key "${name}" is not printable ASCII`;
  return undefined;
}
