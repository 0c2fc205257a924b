import { registerSecret } from '../../errors.js';
import type { AuthConfig } from '../../config/types.js';

/**
 * The HTTP headers that carry a plugin's credentials, computed once per plugin (never per call).
 * Header names are lower-case so that they replace, rather than duplicate, a caller's header of
 * the same name. `mtls` and `none` add no header: mTLS lives in the TLS connect options.
 */
export function authHeaders(auth: AuthConfig): Record<string, string> {
  switch (auth.method) {
    case 'api-key':
      return secretHeaders({ 'x-api-key': auth.apiKey ?? '' });
    case 'bearer':
      registerSecret(auth.token);
      return secretHeaders({ authorization: `Bearer ${auth.token ?? ''}` });
    case 'basic': {
      registerSecret(auth.password);
      const pair = `${auth.username ?? ''}:${auth.password ?? ''}`;
      return secretHeaders({ authorization: `Basic ${Buffer.from(pair).toString('base64')}` });
    }
    case 'custom': {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(auth.headers ?? {})) {
        headers[name.toLowerCase()] = value;
      }
      return secretHeaders(headers);
    }
    default:
      return {};
  }
}

// Every value we put on the wire as a credential is registered, so that an error or log line that
// happens to echo it (a proxy's error page, an undici message) is redacted.
function secretHeaders(headers: Record<string, string>): Record<string, string> {
  for (const value of Object.values(headers)) registerSecret(value);
  return headers;
}
