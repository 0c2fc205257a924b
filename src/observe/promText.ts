/**
 * The two ways the Prometheus exporter hands a metric's series to prom-client's registry
 * (`getForPromString()`, read by `registry.metrics()`):
 *
 * - {@link TextSink}: the exposition lines written here, each line's `name{labels}` formatted once
 *   per series and kept from scrape to scrape, so a scrape writes one string and one number per
 *   line into a buffer. The lines go to the registry in chunks, each as the name of one value
 *   (the registry prints `name labels value`), which it prints as they are. Only when the
 *   registry adds nothing to a line: no default labels, and no `_total` suffix of OpenMetrics on
 *   a counter (see {@link textSafe}).
 * - {@link SampleSink}: one value per series, formatted by prom-client itself; each series'
 *   labels are one object kept from scrape to scrape, which prom-client formats once and caches.
 *
 * Both print the same lines as prom-client's own metrics do: the same escaping of label values
 * (backslash, double quote, newline), the same numbers (`+Inf`, `-Inf`, `Nan`, JavaScript's
 * shortest round-trip form), own labels before the shared ones.
 */

/** Label values of one series, or the part of them a family adds (`le`, `outcome`…). */
export type Labels = Readonly<Record<string, string | number>>;

/**
 * One series of a family, apart from the labels it shares with its plugin: the sample name's
 * suffix (`_bucket`, `_sum`, `_count` for histograms) and its own labels. Kept from scrape to
 * scrape: its identity keys the caches of formatted text.
 */
export interface Series {
  readonly suffix: string;
  readonly labels: Labels;
}

/** Where a metric's reader writes its series at scrape time. */
export interface Sink {
  /** One series: `shared` are the labels it shares with its plugin (one object per plugin). */
  add(shared: Labels, series: Series, value: number): void;
}

/** One value as prom-client's registry reads it from `get()` / `getForPromString()`. */
export interface MetricValue {
  labels: Labels;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
}

export const NO_LABELS: Labels = Object.freeze({});

const seriesByKey = new Map<string, Series>();

/**
 * The {@link Series} of these labels and suffix, the same object for equal arguments. For label
 * sets from a bounded set (states, outcomes, `le` bounds, results).
 */
export function series(labels: Labels, suffix = ''): Series {
  const key = JSON.stringify([suffix, labels]);
  let found = seriesByKey.get(key);
  if (found === undefined) {
    found = Object.freeze({ suffix, labels: Object.freeze({ ...labels }) });
    seriesByKey.set(key, found);
  }
  return found;
}

export const PLAIN = series(NO_LABELS);

/** A sample value as the exposition writes it (prom-client's `getValueAsString`). */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return `${value}`;
  if (Number.isNaN(value)) return 'Nan';
  return value < 0 ? '-Inf' : '+Inf';
}

/** A label value escaped for the text format: `\` → `\\`, newline → `\n`, `"` → `\"`. */
export function escapeLabelValue(value: string | number): string {
  if (typeof value !== 'string') return `${value}`;
  return /[\\\n"]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
    : value;
}

function formatPairs(labels: Labels, exclude: Labels | undefined, out: string[]): void {
  for (const name of Object.keys(labels)) {
    if (exclude === undefined || !Object.hasOwn(exclude, name)) {
      out.push(`${name}="${escapeLabelValue(labels[name]!)}"`);
    }
  }
}

const sharedText = new WeakMap<Labels, string>();

/** `a="x",b="y"` for a plugin's shared labels, formatted once per object. */
function formatShared(shared: Labels): string {
  let text = sharedText.get(shared);
  if (text === undefined) {
    const parts: string[] = [];
    formatPairs(shared, undefined, parts);
    text = parts.join(',');
    sharedText.set(shared, text);
  }
  return text;
}

/**
 * `name_suffix{own,shared}` as prom-client's registry writes it: the series' own labels (those
 * not among the shared ones), then the shared ones; no braces without labels.
 */
export function linePrefix(name: string, shared: Labels, s: Series): string {
  const parts: string[] = [];
  formatPairs(s.labels, shared, parts);
  const sharedPart = formatShared(shared);
  if (sharedPart !== '') parts.push(sharedPart);
  const sampleName = name + s.suffix;
  return parts.length === 0 ? sampleName : `${sampleName}{${parts.join(',')}}`;
}

/**
 * A series' `name{labels}` as written: the string itself when it is all ASCII (one byte a
 * character, the common case), boxed when it is not (written as UTF-8).
 */
type Prefix = string | { readonly utf8: string };

const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of lines per value handed to the registry (see {@link TextSink}). */
const CHUNK_BYTES = 32 * 1024;

/**
 * The formatted `name{labels}` of each series of one exporter's metrics, by shared labels: per
 * plugin, one array holding the lines of all its series, each metric's series at places of
 * their own (see {@link LineCache.metric}). Weak: a plugin's entries go with its shared labels
 * object (plugin removed, group changed).
 */
export class LineCache {
  private readonly byShared = new WeakMap<Labels, Array<Prefix | undefined>>();
  private places = 0;

  /** The lines of one metric, written under `name`. */
  metric(name: string): MetricLines {
    return new MetricLines(name, this.byShared, () => this.places++);
  }
}

/** One metric's view of a {@link LineCache}. */
export class MetricLines {
  /** Where each series of this metric sits in a plugin's array. */
  private readonly place = new Map<Series, number>();
  private lastShared: Labels | undefined;
  private lastLines: Array<Prefix | undefined> | undefined;

  constructor(
    private readonly name: string,
    private readonly byShared: WeakMap<Labels, Array<Prefix | undefined>>,
    private readonly newPlace: () => number,
  ) {}

  prefix(shared: Labels, s: Series): Prefix {
    let lines = this.lastLines;
    if (shared !== this.lastShared || lines === undefined) {
      lines = this.byShared.get(shared);
      if (lines === undefined) {
        lines = [];
        this.byShared.set(shared, lines);
      }
      this.lastShared = shared;
      this.lastLines = lines;
    }
    let at = this.place.get(s);
    if (at === undefined) {
      at = this.newPlace();
      this.place.set(s, at);
    }
    let line = lines[at];
    if (line === undefined) {
      const text = linePrefix(this.name, shared, s);
      line = NON_ASCII.test(text) ? { utf8: text } : text;
      while (lines.length < at) lines.push(undefined); // no holes: a packed array
      lines[at] = line;
    }
    return line;
  }
}

/**
 * Where {@link TextSink} writes, reused from scrape to scrape (a chunk of lines is written and
 * read back in one synchronous run). Bytes, not string concatenation: V8 copies a string built
 * from tens of thousands of pieces several times slower than one decoding of this buffer.
 */
let scratch = Buffer.allocUnsafe(2 * CHUNK_BYTES);

/**
 * Writes the exposition lines of one metric for one scrape. {@link values} hands them to the
 * registry as values whose name is a chunk of lines but the last value, which the registry
 * appends. Chunks stay under {@link CHUNK_BYTES}: V8 keeps such strings in its young generation,
 * where allocating them is cheap; the registry joins them into the exposition as it joins lines.
 */
export class TextSink implements Sink {
  private readonly chunks: MetricValue[] = [];
  private length = 0;
  /** Where the last line's ` value` starts: the registry writes that part. */
  private lastEnd = -1;
  private lastValue = 0;
  private ascii = true;

  constructor(private readonly cache: MetricLines) {}

  add(shared: Labels, s: Series, value: number): void {
    const prefix = this.cache.prefix(shared, s);
    const text = typeof prefix === 'string' ? prefix : prefix.utf8;
    let at = this.length;
    // A UTF-16 unit is at most 3 bytes of UTF-8; a number at most 24 characters.
    const room = at + text.length * 3 + 32;
    if (room > scratch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(room, scratch.length * 2));
      scratch.copy(bigger, 0, 0, at);
      scratch = bigger;
    }
    const buffer = scratch;
    if (typeof prefix === 'string') {
      at += buffer.write(text, at, 'latin1');
    } else {
      at += buffer.write(text, at, 'utf8');
      this.ascii = false;
    }
    this.lastEnd = at;
    this.lastValue = value;
    buffer[at++] = 0x20; // ' '
    if (value >= 0 && value <= 9 && Number.isInteger(value)) buffer[at++] = 0x30 + value;
    else at += buffer.write(formatValue(value), at, 'latin1');
    buffer[at++] = 0x0a; // '\n'
    this.length = at;
    if (at >= CHUNK_BYTES) this.flush();
  }

  values(): MetricValue[] {
    this.flush();
    return this.chunks;
  }

  /** The lines written so far as one value: all but the last value, which the registry writes. */
  private flush(): void {
    if (this.lastEnd < 0) return;
    this.chunks.push({
      labels: NO_LABELS,
      sharedLabels: NO_LABELS,
      metricName: scratch.toString(this.ascii ? 'latin1' : 'utf8', 0, this.lastEnd),
      value: this.lastValue,
    });
    this.length = 0;
    this.lastEnd = -1;
    this.ascii = true;
  }
}

/**
 * Labels of each series merged into one object (own first, then shared), kept from scrape to
 * scrape, by shared labels then series.
 */
export class MergedLabels {
  private readonly byShared = new WeakMap<Labels, Map<Series, Labels>>();

  of(shared: Labels, s: Series): Labels {
    if (s.labels === NO_LABELS) return shared;
    let merged = this.byShared.get(shared);
    if (merged === undefined) {
      merged = new Map();
      this.byShared.set(shared, merged);
    }
    let labels = merged.get(s);
    if (labels === undefined) {
      labels = Object.freeze({ ...s.labels, ...shared });
      merged.set(s, labels);
    }
    return labels;
  }
}

/**
 * One value per series for prom-client to format: every label in `sharedLabels` (for
 * `getForPromString()`, which prom-client formats once per object) or in `labels` (for `get()`,
 * where readers such as cluster aggregation expect them).
 */
export class SampleSink implements Sink {
  readonly values: MetricValue[] = [];

  constructor(
    private readonly name: string,
    private readonly merged: MergedLabels,
    private readonly asShared: boolean,
  ) {}

  add(shared: Labels, s: Series, value: number): void {
    const labels = this.merged.of(shared, s);
    const value_: MetricValue = this.asShared
      ? { labels: NO_LABELS, sharedLabels: labels, value }
      : { labels, value };
    if (s.suffix !== '') value_.metricName = this.name + s.suffix;
    this.values.push(value_);
  }
}

/** prom-client's content type for OpenMetrics (`Registry.OPENMETRICS_CONTENT_TYPE`). */
const OPENMETRICS = 'application/openmetrics-text';

/**
 * Whether prom-client's registry prints a {@link TextSink}'s lines as they are: it has no default
 * labels (it would add them to the last line only) and, for counters, is not in OpenMetrics
 * format (it renames counters and appends `_total` to each value's name). Read from the registry
 * the metric was registered in (`_defaultLabels` is prom-client's own field, in 14.x and 15.x);
 * anything else, or any doubt, answers false, and prom-client formats the series itself.
 */
export function textSafe(registry: object, counter: boolean): boolean {
  const r = registry as { _defaultLabels?: unknown; contentType?: unknown };
  const defaults = r._defaultLabels;
  if (defaults === null || typeof defaults !== 'object') return false;
  if (Object.keys(defaults).length > 0) return false;
  if (!counter) return true;
  return typeof r.contentType === 'string' && !r.contentType.startsWith(OPENMETRICS);
}
