import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, PluginError, redactSecrets } from '../../errors.js';
import { sendJson } from '../../internal/httpReply.js';
import { renderPage } from './page.js';
import { StatusView, type StatusSource } from './view.js';
import { errorMessage } from '../../internal/errorMessage.js';

/**
 * State-changing actions of the status page; off unless given. Every action is a `POST` with
 * `Authorization: Bearer <token>` and a JSON body, so a browser cannot be tricked into sending
 * one from another site (no simple request carries that header; no CORS is ever granted).
 */
export interface StatusActions {
  /** The secret operators type into the page. At least 16 characters; compared in constant time. */
  token: string;
  /** Offer enable/disable of a plugin (`manager.setEnabled`). Default true. */
  enable?: boolean | undefined;
  /** Offer "Reload config": called on the operator's request; e.g. `() => manager.reload(path)`. */
  reload?: (() => Promise<unknown>) | undefined;
}

/** Options of {@link createStatusHandler}. */
export interface StatusOptions {
  /** Path of the page; the JSON is at `<path>.json`, actions under `<path>/actions/`. Default `/status`. */
  path?: string | undefined;
  /** Page title. Default `plugwire status`. */
  title?: string | undefined;
  /** How often the page polls the JSON, ms. Default 2000. */
  refreshMs?: number | undefined;
  /** The rolling window of rates and percentiles, ms. Default 60 000. */
  windowMs?: number | undefined;
  /** Off by default: the page is read-only. */
  actions?: StatusActions | undefined;
}

/** A Node request handler; `next` (Express, Connect) receives requests for other paths. */
export type StatusHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

const MAX_BODY = 4096;

/**
 * Serves the operators' status page of a {@link StatusSource} (the `Manager`):
 *
 * - `GET /status`: one self-contained HTML page (no CDN, works offline): every plugin and group
 *   with state, health, breaker, in flight, calls/s, error rate, p50/p99 over the last minute
 *   and last error, updated live by polling the JSON below.
 * - `GET /status.json`: the same data for scripts ({@link StatusDocument}).
 * - `POST /status/actions/enable` `{"plugin","enabled"}` and `POST /status/actions/reload`: only
 *   when `actions` is given, with its bearer token.
 *
 * Rates come from the manager's cumulative counters diffed at read time: nothing is added to
 * `execute()`, and nothing runs while nobody reads. No secrets (messages are redacted), no
 * request data. Other paths go to `next()` when given, else 404.
 *
 * ```ts
 * http.createServer(createStatusHandler(manager)).listen(9090, '127.0.0.1');
 * ```
 */
export function createStatusHandler(
  source: StatusSource,
  options: StatusOptions = {},
): StatusHandler {
  const path = trimSlash(options.path ?? '/status');
  const actions = options.actions;
  if (actions !== undefined && (typeof actions.token !== 'string' || actions.token.length < 16)) {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      'createStatusHandler(): actions.token must be a string of at least 16 characters',
    );
  }
  const canEnable = actions !== undefined && actions.enable !== false;
  if (canEnable && source.setEnabled === undefined) {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      'createStatusHandler(): enable/disable needs a source with setEnabled() (a Manager)',
    );
  }
  const offered = { enable: canEnable, reload: actions?.reload !== undefined };
  const view = new StatusView(source, offered, options.windowMs);
  const base = path.slice(path.lastIndexOf('/') + 1) || 'status';
  const page = renderPage({
    title: options.title ?? 'plugwire status',
    refreshMs: options.refreshMs ?? 2000,
    base,
    actions: offered,
  });
  const csp = contentSecurityPolicy(page);
  const tokenDigest = actions === undefined ? undefined : digest(actions.token);

  return (req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = trimSlash(q === -1 ? url : url.slice(0, q));
    const method = req.method ?? 'GET';
    if (route === path || route === `${path}.json`) {
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return sendJson(req, res, 405, { message: 'method not allowed' });
      }
      if (route === path) return sendPage(req, res, page, csp);
      try {
        return sendJson(req, res, 200, view.read());
      } catch {
        return sendJson(req, res, 500, { message: 'status unavailable' });
      }
    }
    if (route.startsWith(`${path}/actions/`) && actions !== undefined) {
      const action = route.slice(path.length + '/actions/'.length);
      if (method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return sendJson(req, res, 405, { message: 'actions are POST only' });
      }
      const refusal = refuse(req, tokenDigest!);
      if (refusal !== undefined) return sendJson(req, res, refusal[0], { message: refusal[1] });
      void runAction(action, req, source, offered, actions).then(
        ([status, message]) => sendJson(req, res, status, { message }),
        () => sendJson(req, res, 500, { message: 'action failed' }),
      );
      return;
    }
    if (next !== undefined) return next();
    sendJson(req, res, 404, { message: 'not found' });
  };
}

/** Why an action request is refused (status, message), or undefined to go ahead. */
function refuse(req: IncomingMessage, tokenDigest: Buffer): [number, string] | undefined {
  const auth = req.headers.authorization ?? '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  if (!timingSafeEqual(digest(given), tokenDigest)) return [401, 'a valid bearer token is needed'];
  // Defence in depth against cross-site requests: JSON only, and a browser's Origin must be ours.
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json')) return [415, 'send application/json'];
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.headers.host) return [403, 'cross-origin actions are refused'];
  } else if (origin === 'null') {
    return [403, 'cross-origin actions are refused'];
  }
  return undefined;
}

async function runAction(
  action: string,
  req: IncomingMessage,
  source: StatusSource,
  offered: { enable: boolean; reload: boolean },
  actions: StatusActions,
): Promise<[number, string]> {
  const body = await readJson(req);
  if (body === undefined) return [400, 'the body must be a JSON object of at most 4 KiB'];
  if (action === 'enable' && offered.enable) {
    const { plugin, enabled } = body as { plugin?: unknown; enabled?: unknown };
    if (typeof plugin !== 'string' || typeof enabled !== 'boolean') {
      return [400, 'expected {"plugin": string, "enabled": boolean}'];
    }
    try {
      await source.setEnabled!(plugin, enabled);
    } catch (error) {
      return [404, redactSecrets(errorMessage(error))];
    }
    return [200, `${plugin} ${enabled ? 'enabled' : 'disabled'}`];
  }
  if (action === 'reload' && actions.reload !== undefined) {
    try {
      await actions.reload();
    } catch (error) {
      // A ConfigError's message lists every problem, already redacted; redacted again anyway.
      return [422, redactSecrets(errorMessage(error))];
    }
    return [200, 'reloaded'];
  }
  return [404, `no action '${action}'`];
}

function readJson(req: IncomingMessage): Promise<object | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('error', () => resolve(undefined));
    req.on('end', () => {
      try {
        const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        resolve(typeof value === 'object' && value !== null ? value : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** The paths a status handler with `options` answers (page, JSON, and actions when offered). */
export function statusPaths(options: StatusOptions = {}): string[] {
  const path = trimSlash(options.path ?? '/status');
  const paths = [path, `${path}.json`];
  if (options.actions !== undefined) paths.push(`${path}/actions/enable`, `${path}/actions/reload`);
  return paths;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

// The page's inline script and style are allowed by hash; nothing else may load or run.
function contentSecurityPolicy(page: string): string {
  const hash = (re: RegExp): string =>
    `'sha256-${createHash('sha256')
      .update(re.exec(page)?.[1] ?? '')
      .digest('base64')}'`;
  return [
    "default-src 'none'",
    `script-src ${hash(/<script>([\s\S]*?)<\/script>/)}`,
    `style-src ${hash(/<style>([\s\S]*?)<\/style>/)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function sendPage(req: IncomingMessage, res: ServerResponse, page: string, csp: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Length', Buffer.byteLength(page));
  if (req.method === 'HEAD') res.end();
  else res.end(page);
}
