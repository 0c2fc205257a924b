/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests: it throws
 * on anything a Prometheus server would reject or misread, rather than guessing. Written here
 * because the npm parsers are unmaintained and lenient (parse-prometheus-text-format: last
 * release 2018-era, merges histogram series by position).
 *
 * Checked: name and label syntax, escapes, values (floats, ±Inf, NaN in any case), one HELP and one TYPE per
 * family before its samples, families contiguous, sample names that belong to their family
 * (`_bucket`/`_sum`/`_count` for histograms), no duplicate series, and for histograms: `le` on
 * every bucket, buckets cumulative, a `+Inf` bucket equal to `_count`, and a `_sum`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string | undefined;
  type: MetricType;
  samples: Sample[];
}

/** One histogram series (one label set without `le`), checked and decoded. */
export interface HistogramSeries {
  labels: Record<string, string>;
  /** `[le, cumulative count]`, ascending, `+Inf` last. */
  buckets: Array<[number, number]>;
  sum: number;
  count: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class ExpositionError extends Error {
  constructor(line: number, text: string, why: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text)}`);
  }
}

/** Parses an exposition; throws {@link ExpositionError} at the first problem. */
export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError(0, '', 'no final newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>(); // families whose group of lines has ended
  const seenSeries = new Set<string>();
  const typeSeen = new Set<string>();
  let current: Family | undefined;

  const lines = text.split('\n');
  lines.pop(); // after the final newline
  lines.forEach((line, index) => {
    const n = index + 1;
    const fail = (why: string): never => {
      throw new ExpositionError(n, line, why);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (meta === null) return; // a plain comment
      const [, kind, name, rest = ''] = meta;
      if (!fullMatch(METRIC_NAME, name!)) fail('bad metric name');
      const family = enter(name!, fail);
      if (kind === 'HELP') {
        if (family.help !== undefined) fail('second HELP');
        family.help = unescape(rest, false, fail);
      } else {
        if (typeSeen.has(name!)) fail('second TYPE');
        if (family.samples.length > 0) fail('TYPE after samples');
        if (!TYPES.has(rest as MetricType)) fail('unknown type');
        family.type = rest as MetricType;
        typeSeen.add(name!);
      }
      return;
    }
    const sample = parseSample(line, fail);
    const family = enter(familyOf(sample.name, current), fail);
    if (!belongs(sample, family)) fail(`sample does not belong to ${family.type} ${family.name}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seenSeries.has(key)) fail('duplicate series');
    seenSeries.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type === 'histogram') histogramSeries(family); // throws when inconsistent
  }
  return families;

  /** Moves to family `name`, refusing to come back to one whose lines have ended. */
  function enter(name: string, fail: (why: string) => never): Family {
    if (current?.name === name) return current;
    if (current !== undefined) closed.add(current.name);
    if (closed.has(name)) fail(`lines of ${name} are not contiguous`);
    const family: Family = { name, help: undefined, type: 'untyped', samples: [] };
    families.set(name, family);
    current = family;
    return family;
  }
}

/** A sample's family: `x_bucket`/`_sum`/`_count` belong to the current histogram or summary `x`. */
function familyOf(name: string, current: Family | undefined): string {
  if (current !== undefined && (current.type === 'histogram' || current.type === 'summary')) {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (name === current.name + suffix) return current.name;
    }
  }
  return name;
}

function belongs(sample: Sample, family: Family): boolean {
  const { name } = sample;
  switch (family.type) {
    case 'histogram':
      if (name === `${family.name}_bucket`) return 'le' in sample.labels;
      return name === `${family.name}_sum` || name === `${family.name}_count`;
    case 'summary':
      if (name === family.name) return 'quantile' in sample.labels;
      return name === `${family.name}_sum` || name === `${family.name}_count`;
    default:
      return name === family.name;
  }
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const nameMatch = METRIC_NAME.exec(line);
  if (nameMatch === null) fail('bad metric name');
  const name = nameMatch![0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = LABEL_NAME.exec(rest);
      if (label === null) fail('bad label name');
      const labelName = label![0];
      if (labelName in labels) fail(`label ${labelName} twice`);
      rest = rest.slice(labelName.length);
      if (!rest.startsWith('="')) fail('expected ="');
      rest = rest.slice(2);
      let value = '';
      for (;;) {
        const c = rest[0];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const next = rest[1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else fail('bad escape in label value');
          rest = rest.slice(2);
        } else {
          if (c === '\n') fail('newline in label value');
          value += c;
          rest = rest.slice(1);
        }
      }
      labels[labelName] = value;
      rest = rest.slice(1);
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) fail('expected , or }');
    }
    rest = rest.slice(1);
  }
  const fields = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (fields === null) fail('expected " <value> [timestamp]"');
  return { name, labels, value: parseValue(fields![1]!, fail) };
}

function parseValue(text: string, fail: (why: string) => never): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // Any case, as Prometheus' own parsers (Go's strconv.ParseFloat) read it: prom-client writes `Nan`.
  if (text.toLowerCase() === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(`bad value ${text}`);
  return Number(text);
}

function unescape(text: string, quotes: boolean, fail: (why: string) => never): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (quotes && c === '"') return '"';
    return fail('bad escape in HELP');
  });
}

function fullMatch(pattern: RegExp, text: string): boolean {
  const m = pattern.exec(text);
  return m !== null && m[0] === text;
}

/** The series of a histogram family by label set, each checked (cumulative, +Inf = count, sum). */
export function histogramSeries(family: Family): HistogramSeries[] {
  if (family.type !== 'histogram') throw new Error(`${family.name} is a ${family.type}`);
  const byLabels = new Map<string, HistogramSeries & { hasSum: boolean; hasCount: boolean }>();
  for (const sample of family.samples) {
    const { le, ...labels } = sample.labels;
    const key = JSON.stringify(Object.entries(labels).sort());
    let series = byLabels.get(key);
    if (series === undefined) {
      series = { labels, buckets: [], sum: NaN, count: NaN, hasSum: false, hasCount: false };
      byLabels.set(key, series);
    }
    if (sample.name.endsWith('_bucket')) {
      series.buckets.push([parseValue(le!, () => fail(family, 'bad le')), sample.value]);
    } else if (sample.name.endsWith('_sum')) {
      series.sum = sample.value;
      series.hasSum = true;
    } else {
      series.count = sample.value;
      series.hasCount = true;
    }
  }
  const out: HistogramSeries[] = [];
  for (const { hasSum, hasCount, ...series } of byLabels.values()) {
    const where = `${family.name}${JSON.stringify(series.labels)}`;
    if (!hasSum || !hasCount) fail(family, `${where} lacks _sum or _count`);
    const buckets = series.buckets;
    if (buckets.length === 0 || buckets.at(-1)![0] !== Infinity) {
      fail(family, `${where} has no +Inf bucket last`);
    }
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0])) fail(family, `${where}: le not ascending`);
      if (buckets[i]![1] < buckets[i - 1]![1]) fail(family, `${where}: buckets not cumulative`);
    }
    if (buckets.at(-1)![1] !== series.count) fail(family, `${where}: +Inf bucket != _count`);
    out.push(series);
  }
  return out;
}

function fail(family: Family, why: string): never {
  throw new Error(`histogram ${family.name}: ${why}`);
}
