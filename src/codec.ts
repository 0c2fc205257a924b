import { parseJson } from './internal/untrusted.js';
import type { Codec } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The default codec: UTF-8 JSON (decoding refuses nesting deeper than 512 levels). */
export const jsonCodec: Codec = {
  name: 'json',
  contentType: 'application/json',
  encode: (value) => encoder.encode(JSON.stringify(value ?? null)),
  decode: (bytes) => (bytes.byteLength === 0 ? undefined : parseJson(decoder.decode(bytes))),
};

/**
 * The value a JSON envelope (HTTP, Unix, exec) carries in `data`. With the JSON codec the value is
 * embedded as is, so envelopes stay readable and go-plugins compatible; with any other codec the
 * encoded bytes travel as a base64 string.
 */
export function toEnvelopeData(codec: Codec, value: unknown): unknown {
  if (codec.name === 'json') return value ?? null;
  return Buffer.from(codec.encode(value)).toString('base64');
}

/** The inverse of {@link toEnvelopeData}. */
export function fromEnvelopeData(codec: Codec, data: unknown): unknown {
  if (codec.name === 'json') return data ?? undefined;
  if (typeof data !== 'string')
    throw new TypeError(`expected base64 ${codec.name} data, got ${typeof data}`);
  return codec.decode(Buffer.from(data, 'base64'));
}
