import type { PluginConfig } from '../../config/types.js';
import type { PluginFactory } from '../../types.js';
import { HttpPlugin } from './plugin.js';

export { HttpPlugin } from './plugin.js';

/**
 * The built-in factory of the `http` and `https` transports. The endpoint's scheme must match the
 * transport (`http://` for `http`, `https://` for `https`), so that a config never sends
 * credentials in clear text by accident.
 */
export const httpFactory: PluginFactory = {
  transports: ['http', 'https'],
  validate(config: PluginConfig) {
    const issues: Array<{ path: string; message: string }> = [];
    if (!config.endpoint) {
      issues.push({
        path: 'endpoint',
        message: `is required for the ${config.transport} transport`,
      });
      return issues;
    }
    let url: URL;
    try {
      url = new URL(config.endpoint);
    } catch {
      issues.push({ path: 'endpoint', message: 'is not a valid URL (e.g. https://host:8443/api)' });
      return issues;
    }
    const expected = `${config.transport}:`;
    if (url.protocol !== expected) {
      issues.push({
        path: 'endpoint',
        message: `must start with ${config.transport}:// for the ${config.transport} transport (got ${url.protocol}//)`,
      });
    }
    if (config.auth.method === 'mtls' && url.protocol !== 'https:') {
      issues.push({ path: 'auth.method', message: 'mtls needs the https transport' });
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
  create: (config, deps) => new HttpPlugin(config, deps),
};
