import type { Readable } from 'node:stream';
import { ErrorCode, PluginError } from '../../errors.js';

function tooLarge(plugin: string, limit: number, announced?: number): PluginError {
  return new PluginError(
    ErrorCode.ResponseTooLarge,
    `reply of plugin "${plugin}" exceeds connection.maxResponseBytes (${limit} bytes)`,
    {
      plugin,
      retryable: false,
      details: announced === undefined ? { limit } : { limit, contentLength: announced },
    },
  );
}

/**
 * Reads a reply body into one buffer, never holding more than `limit` bytes. A body that
 * announces (content-length) or turns out to be larger is destroyed at once: undici then drops
 * that socket, and the pool opens a fresh one for the next call. Every path either consumes the
 * body to its end or destroys it, so no socket is left waiting on an unread body.
 */
export async function readBody(
  body: Readable,
  limit: number,
  contentLength: string | string[] | undefined,
  plugin: string,
): Promise<Buffer> {
  if (typeof contentLength === 'string') {
    const announced = Number(contentLength);
    if (announced > limit) {
      body.destroy();
      throw tooLarge(plugin, limit, announced);
    }
  }
  const chunks: Buffer[] = [];
  let total = 0;
  // Leaving the loop by `throw` destroys the stream, which is what we want past the limit.
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > limit) throw tooLarge(plugin, limit);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
