/**
 * The few protobuf wire-format primitives the plugwire messages need (proto3: varints, strings,
 * bytes, string maps), written by hand so that the hot path encodes straight into one Buffer and
 * decodes `bytes` fields as views, with no reflection and no intermediate objects.
 * `messages.test.ts` checks every message against protobufjs reading `proto/*.proto`.
 */

/** Wire types used by the messages (groups, wire types 3 and 4, are not supported). */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

/** A message that is not valid protobuf (truncated, or a field of the wrong wire type). */
export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

/** Bytes taken by `value` as a varint; `value` is a non-negative integer below 2^53. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 5;
  for (let rest = Math.floor(value / 0x800000000); rest > 0; rest = Math.floor(rest / 0x80)) {
    size++;
  }
  return size;
}

/** The key (field number and wire type) as one number, as written before each field. */
export function fieldKey(field: number, wireType: number): number {
  return field * 8 + wireType;
}

/** Size of a length-delimited field (`key`, length, payload) whose payload has `length` bytes. */
export function delimitedSize(field: number, length: number): number {
  return varintSize(fieldKey(field, WireType.LengthDelimited)) + varintSize(length) + length;
}

/** Size of a `string` field; 0 for the empty string, which proto3 leaves out. */
export function stringFieldSize(field: number, value: string): number {
  return value.length === 0 ? 0 : delimitedSize(field, utf8Length(value));
}

/** Size of a `repeated string` field; every element is written, empty ones included. */
export function repeatedStringFieldSize(field: number, values: readonly string[]): number {
  let size = 0;
  for (const value of values) size += delimitedSize(field, utf8Length(value));
  return size;
}

/** Size of one `map<string, string>` entry's body (key = 1, value = 2). */
function mapEntrySize(key: string, value: string): number {
  return delimitedSize(1, utf8Length(key)) + delimitedSize(2, utf8Length(value));
}

/** Size of a `map<string, string>` field with every entry of `map`. */
export function stringMapFieldSize(field: number, map: Readonly<Record<string, string>>): number {
  let size = 0;
  for (const key of Object.keys(map)) size += delimitedSize(field, mapEntrySize(key, map[key]!));
  return size;
}

/** Writes into a Buffer sized beforehand with the `*Size` functions. */
export class ProtobufWriter {
  readonly buffer: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** The written bytes; the size computed beforehand must have been exact. */
  finish(): Buffer {
    if (this.pos !== this.buffer.length) {
      throw new ProtobufError(`encoder size mismatch: wrote ${this.pos} of ${this.buffer.length}`);
    }
    return this.buffer;
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.pos++] = rest;
  }

  /** A `string` field; skipped when empty (proto3 default). */
  string(field: number, value: string): void {
    if (value.length === 0) return;
    this.varint(fieldKey(field, WireType.LengthDelimited));
    this.rawString(value);
  }

  /** A `bytes` field; skipped when empty (proto3 default). */
  bytes(field: number, value: Uint8Array): void {
    if (value.byteLength === 0) return;
    this.varint(fieldKey(field, WireType.LengthDelimited));
    this.varint(value.byteLength);
    this.buffer.set(value, this.pos);
    this.pos += value.byteLength;
  }

  /** A `bool` field; skipped when false (proto3 default). */
  bool(field: number, value: boolean): void {
    if (!value) return;
    this.varint(fieldKey(field, WireType.Varint));
    this.buffer[this.pos++] = 1;
  }

  /** An enum or `uint32` field; skipped when 0 (proto3 default). */
  uint(field: number, value: number): void {
    if (value === 0) return;
    this.varint(fieldKey(field, WireType.Varint));
    this.varint(value);
  }

  /** A `repeated string` field (strings are never packed). */
  repeatedString(field: number, values: readonly string[]): void {
    const key = fieldKey(field, WireType.LengthDelimited);
    for (const value of values) {
      this.varint(key);
      this.rawString(value);
    }
  }

  /** A `map<string, string>` field: one entry message per key. */
  stringMap(field: number, map: Readonly<Record<string, string>>): void {
    const key = fieldKey(field, WireType.LengthDelimited);
    for (const name of Object.keys(map)) {
      const value = map[name]!;
      const nameLength = utf8Length(name);
      const valueLength = utf8Length(value);
      this.varint(key);
      this.varint(2 + varintSize(nameLength) + nameLength + varintSize(valueLength) + valueLength);
      // Both entry fields are written even when empty: some decoders expect them.
      this.buffer[this.pos++] = 0x0a; // field 1, length-delimited
      this.varint(nameLength);
      this.utf8(name, nameLength);
      this.buffer[this.pos++] = 0x12; // field 2, length-delimited
      this.varint(valueLength);
      this.utf8(value, valueLength);
    }
  }

  private rawString(value: string): void {
    const length = utf8Length(value);
    this.varint(length);
    this.utf8(value, length);
  }

  /** Writes `value` as UTF-8 (`length` bytes); short strings in JS, long ones natively. */
  private utf8(value: string, length: number): void {
    const buffer = this.buffer;
    if (value.length > SHORT_STRING) {
      buffer.write(value, this.pos, length, 'utf8');
      this.pos += length;
      return;
    }
    let pos = this.pos;
    for (let i = 0; i < value.length; i++) {
      let code = value.charCodeAt(i);
      if (code < 0x80) {
        buffer[pos++] = code;
      } else if (code < 0x800) {
        buffer[pos++] = 0xc0 | (code >> 6);
        buffer[pos++] = 0x80 | (code & 0x3f);
      } else if (isSurrogatePair(value, i)) {
        code = 0x10000 + ((code - 0xd800) << 10) + (value.charCodeAt(++i) - 0xdc00);
        buffer[pos++] = 0xf0 | (code >> 18);
        buffer[pos++] = 0x80 | ((code >> 12) & 0x3f);
        buffer[pos++] = 0x80 | ((code >> 6) & 0x3f);
        buffer[pos++] = 0x80 | (code & 0x3f);
      } else {
        if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // lone surrogate, as Node writes it
        buffer[pos++] = 0xe0 | (code >> 12);
        buffer[pos++] = 0x80 | ((code >> 6) & 0x3f);
        buffer[pos++] = 0x80 | (code & 0x3f);
      }
    }
    this.pos = pos;
  }
}

// Strings up to this many UTF-16 units are measured and written in JS: for the short ids,
// header names and values of these messages that beats a call into C++ per string.
const SHORT_STRING = 64;

/** UTF-8 byte length of `value`, as `Buffer.byteLength` counts it. */
export function utf8Length(value: string): number {
  if (value.length > SHORT_STRING) return Buffer.byteLength(value);
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (isSurrogatePair(value, i)) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

function isSurrogatePair(value: string, i: number): boolean {
  const code = value.charCodeAt(i);
  if (code < 0xd800 || code > 0xdbff || i + 1 >= value.length) return false;
  const next = value.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}

/** Reads fields from one message (or a sub-message: an entry of a map). */
export class ProtobufReader {
  private pos: number;

  constructor(
    private readonly buffer: Buffer,
    start = 0,
    private readonly end = buffer.length,
  ) {
    this.pos = start;
  }

  /** True while fields remain. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** Reads a varint as a number (exact below 2^53, which covers every field used here). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const byte = this.buffer[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 0x80;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** Reads a field key; returns the field number and leaves the wire type in {@link wireType}. */
  key(): number {
    const key = this.varint();
    this.wireType = key % 8;
    const field = Math.floor(key / 8);
    if (field === 0) throw new ProtobufError('field number 0');
    return field;
  }

  /** Wire type of the field whose key was read last. */
  wireType = 0;

  /** The payload bounds of the current length-delimited field, and moves past it. */
  private delimited(field: number): [number, number] {
    this.expect(field, WireType.LengthDelimited);
    const length = this.varint();
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw new ProtobufError(`field ${field} is truncated`);
    this.pos = end;
    return [start, end];
  }

  string(field: number): string {
    const [start, end] = this.delimited(field);
    return this.buffer.toString('utf8', start, end);
  }

  /** A view of the field's bytes inside the message buffer (no copy). */
  bytes(field: number): Buffer {
    const [start, end] = this.delimited(field);
    return this.buffer.subarray(start, end);
  }

  bool(field: number): boolean {
    this.expect(field, WireType.Varint);
    return this.varint() !== 0;
  }

  /** An enum or unsigned integer field. */
  uint(field: number): number {
    this.expect(field, WireType.Varint);
    return this.varint();
  }

  /** Reads one `map<string, string>` entry into `map` (missing key or value = ""). */
  mapEntry(field: number, map: Record<string, string>): void {
    const [start, end] = this.delimited(field);
    const entry = new ProtobufReader(this.buffer, start, end);
    let key = '';
    let value = '';
    while (entry.more()) {
      const entryField = entry.key();
      if (entryField === 1) key = entry.string(1);
      else if (entryField === 2) value = entry.string(2);
      else entry.skipField();
    }
    setEntry(map, key, value);
  }

  /** Skips the current field (an unknown one, kept for forward compatibility). */
  skipField(): void {
    switch (this.wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.advance(this.varint());
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${this.wireType}`);
    }
  }

  private advance(length: number): void {
    if (this.pos + length > this.end) throw new ProtobufError('truncated field');
    this.pos += length;
  }

  private expect(field: number, wireType: number): void {
    if (this.wireType !== wireType) {
      throw new ProtobufError(
        `field ${field} has wire type ${this.wireType}, expected ${wireType}`,
      );
    }
  }
}

/** Sets a map entry; `__proto__` is stored as a plain key instead of changing the prototype. */
function setEntry(map: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(map, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    map[key] = value;
  }
}
