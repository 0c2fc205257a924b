import { z } from 'zod';
import { ErrorCode } from '../errors.js';
import { keyed, withRule, type FieldKit } from './fields.js';
import type { Problem } from './issues.js';
import type { AuthConfig, AuthMethod, TlsConfig } from './types.js';

/** The authentication methods a plugin may use. */
const AUTH_METHODS: readonly AuthMethod[] = [
  'none',
  'api-key',
  'bearer',
  'basic',
  'mtls',
  'custom',
];

/**
 * `auth`: the method and its credentials. Secret fields (`apiKey`, `token`, `password`, header
 * values) are registered for redaction as they are read and never quoted in a message.
 */
export function authSchema(kit: FieldKit) {
  const file = () => kit.text(z.string().min(1)).optional();
  const schema = z.strictObject({
    method: kit.text(z.enum(AUTH_METHODS as [AuthMethod, ...AuthMethod[]])).default('none'),
    apiKey: kit.secret().optional(),
    token: kit.secret().optional(),
    username: kit.text(z.string().min(1)).optional(),
    password: kit.secret().optional(),
    certFile: file(),
    keyFile: file(),
    caFile: file(),
    // Header names are the user's own: not renamed, only their values are secrets.
    headers: z.record(z.string().min(1), kit.secret()).optional(),
  });
  // go-plugins' `method` has no omitempty: "" (Go's unset) means no authentication.
  return keyed(withRule(schema, checkCredentials), ['method']);
}

const CREDENTIALS = [
  'apiKey',
  'token',
  'username',
  'password',
  'certFile',
  'keyFile',
  'headers',
] as const;

function checkCredentials(auth: AuthConfig, valid: (...path: PropertyKey[]) => boolean): Problem[] {
  if (!valid('method')) return [];
  const missing = (field: keyof AuthConfig, code: ErrorCode, message: string): Problem[] =>
    valid(field) && auth[field] === undefined ? [{ path: [field], code, message }] : [];
  switch (auth.method) {
    case 'none': {
      const given = CREDENTIALS.filter((field) => valid(field) && auth[field] !== undefined);
      return given.length === 0
        ? []
        : [
            {
              path: ['method'],
              message: `credentials are set (${given.join(', ')}) but the method is "none"; set auth.method (one of ${AUTH_METHODS.join(', ')})`,
            },
          ];
    }
    case 'api-key':
      return missing('apiKey', ErrorCode.MissingAPIKey, 'method "api-key" needs an apiKey');
    case 'bearer':
      return missing('token', ErrorCode.MissingBearerToken, 'method "bearer" needs a token');
    case 'basic':
      return [
        ...missing(
          'username',
          ErrorCode.MissingBasicCredentials,
          'method "basic" needs a username',
        ),
        ...missing(
          'password',
          ErrorCode.MissingBasicCredentials,
          'method "basic" needs a password',
        ),
      ];
    case 'mtls':
      return [
        ...missing('certFile', ErrorCode.MissingMTLSCerts, 'method "mtls" needs a client certFile'),
        ...missing('keyFile', ErrorCode.MissingMTLSCerts, 'method "mtls" needs a client keyFile'),
      ];
    case 'custom':
      return valid('headers') && Object.keys(auth.headers ?? {}).length === 0
        ? [{ path: ['headers'], message: 'method "custom" needs at least one header' }]
        : [];
  }
}

/** `tls`: files are only required to be named, not to exist yet. */
export function tlsSchema(kit: FieldKit) {
  const file = () => kit.text(z.string().min(1)).optional();
  const schema = z.strictObject({
    caFile: file(),
    certFile: file(),
    keyFile: file(),
    serverName: kit.text(z.string().min(1)).optional(),
    insecureSkipVerify: kit.boolean().default(false),
  });
  return keyed(withRule(schema, certAndKeyTogether));
}

function certAndKeyTogether(tls: TlsConfig, valid: (...path: PropertyKey[]) => boolean): Problem[] {
  if (!valid('certFile') || !valid('keyFile')) return [];
  if (tls.certFile !== undefined && tls.keyFile === undefined) {
    return [{ path: ['keyFile'], message: 'is required when certFile is set' }];
  }
  if (tls.keyFile !== undefined && tls.certFile === undefined) {
    return [{ path: ['certFile'], message: 'is required when keyFile is set' }];
  }
  return [];
}
