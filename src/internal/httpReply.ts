import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers a small request of the manager's own HTTP handlers (probes, status, admin server):
 * never cached, never sniffed, no body for HEAD, nothing when the handler already answered.
 */
export function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** {@link sendBody} with a JSON body. */
export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: object,
): void {
  sendBody(req, res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/** {@link sendBody} with a short plain-text body (errors and refusals). */
export function sendText(res: ServerResponse, status: number, text: string): void {
  sendBody(res.req, res, status, 'text/plain; charset=utf-8', text);
}
