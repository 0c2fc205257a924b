import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusDocument } from '../observe/status/view.js';
import { EXIT_INVALID, EXIT_OK, UsageError, parse, table, type Io } from './shared.js';

export const STATUS_HELP = `Usage: plugwire status <url> [--json] [--timeout <ms>]

Reads a running manager's status JSON (createStatusHandler / serveAdmin) and prints one
row per plugin and per group: state, health, breaker, in flight, calls/s, error rate,
p50/p99 over the last minute, and last error.

<url> is the server (http://127.0.0.1:9090), the page (…/status) or the JSON itself
(…/status.json). Rates need two reads a second apart: when the server had none yet,
the command reads twice.

Options:
  --json           print the status document as received
  --timeout <ms>   give up after this long (default 5000)
  -h, --help       show this help

Exit status: 0 when read (ready or not: see the first line), 1 when the server could
not be read, 2 wrong usage.
`;

/** The JSON endpoint for what the user typed. */
export function statusUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`not a URL: ${input}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`not an http(s) URL: ${input}`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (!path.endsWith('.json'))
    url.pathname = path.endsWith('/status') ? `${path}.json` : `${path}/status.json`;
  return url;
}

export async function status(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (values.help) {
    io.out(STATUS_HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError('status takes exactly one URL');
  const timeoutMs = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!(timeoutMs > 0)) throw new UsageError('--timeout must be a positive number of ms');
  const url = statusUrl(positionals[0]!);
  const signal = AbortSignal.timeout(timeoutMs);
  let doc: StatusDocument;
  try {
    doc = await read(url, signal);
    if (doc.windowSeconds === 0) {
      await sleep(1100, undefined, { signal });
      doc = await read(url, signal);
    }
  } catch (error) {
    const why = signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : error instanceof Error
        ? error.message
        : String(error);
    io.err(`cannot read ${url.href}: ${why}\n`);
    return EXIT_INVALID;
  }
  if (values.json) {
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
    return EXIT_OK;
  }
  io.out(render(doc));
  return EXIT_OK;
}

async function read(url: URL, signal: AbortSignal): Promise<StatusDocument> {
  const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const doc = (await res.json()) as StatusDocument;
  if (doc?.version !== 1 || !Array.isArray(doc.plugins)) {
    throw new Error('not a plugwire status document (version 1)');
  }
  return doc;
}

const dash = '-';
const fixed = (v: number | null, digits = 1): string => (v === null ? dash : v.toFixed(digits));
const ms = (v: number | null): string => (v === null ? dash : `${v.toFixed(v < 10 ? 2 : 1)}ms`);
const pct = (v: number | null): string => (v === null ? dash : `${(v * 100).toFixed(1)}%`);

function render(doc: StatusDocument): string {
  const head = doc.ready ? 'READY' : `NOT READY: ${doc.readiness.reason}`;
  const window =
    doc.windowSeconds > 0 ? `rates over ${Math.round(doc.windowSeconds)}s` : 'no rates yet';
  const plugins = table(
    [
      'PLUGIN',
      'GROUP',
      'STATE',
      'HEALTH',
      'BREAKER',
      'INFLIGHT',
      'CALLS/S',
      'ERR',
      'P50',
      'P99',
      'LAST ERROR',
    ],
    doc.plugins.map((p) => [
      p.name,
      p.group ?? dash,
      p.enabled ? p.state : 'disabled',
      p.health,
      p.breaker ?? 'none',
      String(p.inFlight),
      fixed(p.callsPerSecond),
      pct(p.errorRate),
      ms(p.p50Ms),
      ms(p.p99Ms),
      [
        p.lastError ?? '',
        Object.entries(p.errorCodes)
          .map(([code, n]) => `${code} x${n}`)
          .join(', '),
      ]
        .filter(Boolean)
        .join('; ') || dash,
    ]),
  );
  const out = [`${head} (${doc.generatedAt}, ${window})`, '', plugins];
  if (doc.groups.length > 0) {
    out.push(
      '',
      table(
        ['GROUP', 'AVAILABLE', 'INFLIGHT', 'CALLS/S', 'ERR', 'P50', 'P99', 'MEMBERS'],
        doc.groups.map((g) => [
          g.name,
          `${g.available}/${g.members.length}`,
          String(g.inFlight),
          fixed(g.callsPerSecond),
          pct(g.errorRate),
          ms(g.p50Ms),
          ms(g.p99Ms),
          g.members.join(','),
        ]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
