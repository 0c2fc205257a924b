import { ErrorCode } from '../errors.js';
import type { Problem } from './issues.js';
import { closest } from './keys.js';
import type { PluginConfig } from './types.js';

type Valid = (...path: PropertyKey[]) => boolean;

/**
 * The transport must be one registered where the config is read (the manager's factories, or
 * the built-in ones): the config layer knows no transport name of its own. What each transport
 * needs (an endpoint, a socket, an executable, TLS files) is that transport's own business: its
 * factory's `validate`.
 *
 * @param hint the fix for a name that is known but not registered (a built-in transport on a
 *   manager created without them)
 */
export function checkTransportName(
  plugin: PluginConfig,
  valid: Valid,
  supported: ReadonlySet<string>,
  hint?: (name: string) => string | undefined,
): Problem[] {
  if (!valid('transport') || supported.has(plugin.transport)) return [];
  const fix = hint?.(plugin.transport);
  if (fix !== undefined) {
    return [
      {
        path: ['transport'],
        code: ErrorCode.UnsupportedTransport,
        message: `no factory is registered for transport "${plugin.transport}" (${fix})${supported.size > 0 ? `; registered: ${[...supported].join(', ')}` : ''}`,
      },
    ];
  }
  const near = closest(plugin.transport, supported);
  return [
    {
      path: ['transport'],
      code: ErrorCode.UnsupportedTransport,
      message: `unsupported transport "${plugin.transport}"${near ? ` (did you mean "${near}"?)` : ''}; supported: ${[...supported].join(', ')}`,
    },
  ];
}
