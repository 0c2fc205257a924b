/** What a {@link LineReader} learnt about a line it refused to buffer. */
export interface OversizedLine {
  /** Length of the whole line in bytes (without the newline). */
  bytes: number;
  /** The first bytes of the line, decoded (may end in a broken character). */
  head: string;
  /** The last bytes of the line, decoded (may start with a broken character). */
  tail: string;
}

/** Receives what a {@link LineReader} finds. */
export interface LineSink {
  /** One complete line, UTF-8 decoded, without its `\n` (or `\r\n`). Empty lines are skipped. */
  line(text: string): void;
  /** A line longer than the reader's limit: its bytes were dropped, only a sample is kept. */
  oversized(line: OversizedLine): void;
}

// Enough of an oversized line to find its `request_id` whether it sits at the start or the end.
const SAMPLE_BYTES = 4096;
const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into newline-delimited lines.
 *
 * There is no length limit unless one is given: a line may span any number of chunks and is
 * joined once, when its newline arrives. Lines are decoded only when complete, so a multi-byte
 * UTF-8 character cut by a chunk boundary is never broken (the byte `\n` never occurs inside a
 * UTF-8 sequence). Past `maxLineBytes`, the rest of the line is counted and thrown away as it
 * arrives, keeping only a head and a tail sample, so an oversized line costs no memory and the
 * stream stays usable from the next line on.
 */
export class LineReader {
  readonly #sink: LineSink;
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #size = 0;
  // Set while the current line is being discarded.
  #discarding = false;
  #head: Buffer = Buffer.alloc(0);
  #tail: Buffer = Buffer.alloc(0);

  constructor(sink: LineSink, maxLineBytes = Number.POSITIVE_INFINITY) {
    this.#sink = sink;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Feeds the next chunk of the stream. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline !== -1 && this.#size === 0 && !this.#discarding) {
        // A whole line inside this chunk, nothing held before it: decoded straight from the
        // chunk, with no view or list of parts to build.
        if (newline - start <= this.#maxLineBytes) {
          const end = newline > start && chunk[newline - 1] === CR ? newline - 1 : newline;
          if (end > start) this.#sink.line(chunk.toString('utf8', start, end));
          start = newline + 1;
          continue;
        }
      }
      const end = newline === -1 ? chunk.length : newline;
      if (end > start) this.#append(chunk, start, end);
      if (newline === -1) return;
      this.#finishLine();
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without a newline is delivered as it is. */
  end(): void {
    if (this.#size > 0 || this.#discarding) this.#finishLine();
  }

  /** Bytes of an unfinished line currently held. */
  get bufferedBytes(): number {
    return this.#discarding ? 0 : this.#size;
  }

  #append(chunk: Buffer, start: number, end: number): void {
    const length = end - start;
    if (this.#discarding) {
      this.#size += length;
      this.#keepTail(chunk.subarray(start, end));
      return;
    }
    if (this.#size + length <= this.#maxLineBytes) {
      this.#parts.push(chunk.subarray(start, end));
      this.#size += length;
      return;
    }
    // Crossing the limit: keep samples, drop the buffered bytes, count the rest.
    const parts = this.#parts;
    parts.push(chunk.subarray(start, end));
    this.#head = sample(parts, 0);
    this.#tail = sample(parts, 1);
    this.#parts = [];
    this.#size += length;
    this.#discarding = true;
  }

  #keepTail(bytes: Buffer): void {
    if (bytes.length >= SAMPLE_BYTES) {
      this.#tail = Buffer.from(bytes.subarray(bytes.length - SAMPLE_BYTES));
    } else {
      const joined = Buffer.concat([this.#tail, bytes]);
      this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - SAMPLE_BYTES)));
    }
  }

  #finishLine(): void {
    if (this.#discarding) {
      const sample: OversizedLine = {
        bytes: this.#size,
        head: this.#head.toString('utf8'),
        tail: this.#tail.toString('utf8'),
      };
      this.#discarding = false;
      this.#head = this.#tail = Buffer.alloc(0);
      this.#size = 0;
      this.#sink.oversized(sample);
      return;
    }
    const parts = this.#parts;
    const size = this.#size;
    this.#parts = [];
    this.#size = 0;
    if (size === 0) return;
    let line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > 0) this.#sink.line(line.toString('utf8'));
  }
}

// The first (`fromEnd` 0) or last (1) SAMPLE_BYTES of a list of buffers, copied.
function sample(parts: readonly Buffer[], fromEnd: 0 | 1): Buffer {
  const picked: Buffer[] = [];
  let size = 0;
  for (let i = 0; i < parts.length && size < SAMPLE_BYTES; i++) {
    const part = parts[fromEnd ? parts.length - 1 - i : i]!;
    picked.push(part);
    size += part.length;
  }
  if (fromEnd) picked.reverse();
  const joined = Buffer.concat(picked);
  return Buffer.from(
    fromEnd
      ? joined.subarray(Math.max(0, joined.length - SAMPLE_BYTES))
      : joined.subarray(0, SAMPLE_BYTES),
  );
}
