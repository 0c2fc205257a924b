import type { PluginConfig } from '../../config/types.js';
import { ErrorCode } from '../../errors.js';
import type { ConfigProblem, PluginFactory } from '../../types.js';
import { LazyModule, LazyPlugin } from '../lazy.js';

// undici is imported with the plugin, when the first http(s) plugin is created.
const implementation = new LazyModule(
  'http',
  ['undici'],
  ErrorCode.HTTPTransportError,
  () => import('./plugin.js'),
);

/**
 * The built-in factory of the `http` and `https` transports. The endpoint's scheme must match the
 * transport (`http://` for `http`, `https://` for `https`), so that a config never sends
 * credentials in clear text by accident.
 */
export const httpFactory: PluginFactory = {
  transports: ['http', 'https'],
  validates: ['endpoint', 'auth', 'healthCheck'],
  validate(config: PluginConfig) {
    const issues: ConfigProblem[] = [];
    const example = `${config.transport}://plugin.internal:8080/api`;
    if (!config.endpoint) {
      issues.push({
        path: 'endpoint',
        code: ErrorCode.MissingEndpoint,
        message: `transport "${config.transport}" needs an endpoint, e.g. ${example}`,
      });
      return issues;
    }
    let url: URL;
    try {
      url = new URL(config.endpoint);
    } catch {
      issues.push({
        path: 'endpoint',
        code: ErrorCode.InvalidEndpointURL,
        message: `is not a valid URL; expected e.g. ${example}`,
      });
      return issues;
    }
    const expected = `${config.transport}:`;
    if (url.protocol !== expected) {
      issues.push({
        path: 'endpoint',
        code: ErrorCode.InvalidEndpointURL,
        message: `transport "${config.transport}" needs a ${config.transport}:// URL (got ${url.protocol}//)`,
      });
    }
    if (config.auth.method === 'mtls' && url.protocol !== 'https:') {
      issues.push({ path: 'auth.method', message: 'mtls needs a TLS transport ("https")' });
    }
    if (config.healthCheck.endpoint) {
      try {
        const health = new URL(config.healthCheck.endpoint, url);
        if (health.protocol !== 'http:' && health.protocol !== 'https:') {
          issues.push({
            path: 'healthCheck.endpoint',
            message: 'must be an http(s) URL or a path',
          });
        }
      } catch {
        issues.push({ path: 'healthCheck.endpoint', message: 'is not a valid URL or path' });
      }
    }
    return issues;
  },
  prepare: () => implementation.load().then(() => undefined),
  create(config, deps) {
    const module = implementation.loaded;
    if (module !== undefined) return new module.HttpPlugin(config, deps);
    return new LazyPlugin(config.name, () =>
      implementation.load().then((m) => new m.HttpPlugin(config, deps)),
    );
  },
};
