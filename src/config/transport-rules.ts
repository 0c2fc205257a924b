import { ErrorCode } from '../errors.js';
import type { Problem } from './issues.js';
import { closest } from './keys.js';
import type { BuiltinTransport, PluginConfig } from './types.js';

/** The transports plugwire ships with. */
export const BUILTIN_TRANSPORTS: readonly BuiltinTransport[] = [
  'http',
  'https',
  'grpc',
  'grpc-tls',
  'unix',
  'exec',
];

type Valid = (...path: PropertyKey[]) => boolean;

/**
 * The transport must be one the manager knows. What each transport needs (an endpoint, a
 * socket, an executable, TLS files) is that transport's own business: its factory's `validate`.
 */
export function checkTransportName(
  plugin: PluginConfig,
  valid: Valid,
  supported: ReadonlySet<string>,
): Problem[] {
  if (!valid('transport') || supported.has(plugin.transport)) return [];
  if ((BUILTIN_TRANSPORTS as readonly string[]).includes(plugin.transport)) {
    return [
      {
        path: ['transport'],
        code: ErrorCode.UnsupportedTransport,
        message: `no factory is registered for transport "${plugin.transport}" (the manager was created with builtinTransports: false): register one with manager.registerFactory("${plugin.transport}", factory)${supported.size > 0 ? `; registered: ${[...supported].join(', ')}` : ''}`,
      },
    ];
  }
  const hint = closest(plugin.transport, supported);
  return [
    {
      path: ['transport'],
      code: ErrorCode.UnsupportedTransport,
      message: `unsupported transport "${plugin.transport}"${hint ? ` (did you mean "${hint}"?)` : ''}; supported: ${[...supported].join(', ')}`,
    },
  ];
}
