import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

/** Records a name answers with; change them between reads. */
export interface DnsRecords {
  A?: string[];
  AAAA?: string[];
  SRV?: Array<{ target: string; port: number; priority?: number; weight?: number }>;
}

/** A tiny authoritative DNS server on 127.0.0.1 (UDP), for the DNS membership tests. */
export interface DnsServer {
  /** `127.0.0.1:<port>`, for `Resolver.setServers()` / `dns.servers`. */
  readonly address: string;
  /** Name (lower case, no trailing dot) → records. A name not here is NXDOMAIN. */
  readonly zone: Map<string, DnsRecords>;
  /** Queries answered so far. */
  queries: number;
  /** Stops answering (queries are read and dropped): a DNS server that went silent. */
  silent: boolean;
  close(): Promise<void>;
}

const TYPES = { A: 1, AAAA: 28, SRV: 33 } as const;

function encodeName(name: string): Buffer {
  const parts = name
    .split('.')
    .filter((p) => p !== '')
    .map((label) => {
      const bytes = Buffer.from(label, 'ascii');
      return Buffer.concat([Buffer.from([bytes.length]), bytes]);
    });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Builds the reply to one query, or undefined for a packet that is not one. */
function reply(query: Buffer, zone: Map<string, DnsRecords>): Buffer | undefined {
  if (query.length < 17) return undefined;
  // Question: labels from offset 12, then type and class.
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  offset += 1;
  if (offset + 4 > query.length) return undefined;
  const type = query.readUInt16BE(offset);
  const question = query.subarray(12, offset + 4);
  const name = labels.join('.').toLowerCase();
  const records = zone.get(name);
  const answers: Buffer[] = [];
  const rr = (rrType: number, data: Buffer): Buffer => {
    const head = Buffer.alloc(12);
    head.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    head.writeUInt16BE(rrType, 2);
    head.writeUInt16BE(1, 4); // IN
    head.writeUInt32BE(1, 6); // TTL 1 s
    head.writeUInt16BE(data.length, 10);
    return Buffer.concat([head, data]);
  };
  if (records !== undefined) {
    if (type === TYPES.A) {
      for (const a of records.A ?? [])
        if (isIPv4(a)) answers.push(rr(1, Buffer.from(a.split('.').map(Number))));
    } else if (type === TYPES.AAAA) {
      for (const a of records.AAAA ?? []) if (isIPv6(a)) answers.push(rr(28, ipv6Bytes(a)));
    } else if (type === TYPES.SRV) {
      for (const s of records.SRV ?? []) {
        const fixed = Buffer.alloc(6);
        fixed.writeUInt16BE(s.priority ?? 0, 0);
        fixed.writeUInt16BE(s.weight ?? 1, 2);
        fixed.writeUInt16BE(s.port, 4);
        answers.push(rr(33, Buffer.concat([fixed, encodeName(s.target)])));
      }
    }
  }
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  // QR, AA, RD copied; RA; RCODE 3 (NXDOMAIN) for an unknown name, else 0 (NODATA when empty).
  header.writeUInt16BE(
    0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (records === undefined ? 3 : 0),
    2,
  );
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, question, ...answers]);
}

/** Starts the server on a free UDP port of 127.0.0.1. */
export async function startDns(): Promise<DnsServer> {
  const socket: Socket = createSocket('udp4');
  const server: DnsServer = {
    address: '',
    zone: new Map(),
    queries: 0,
    silent: false,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (message, from) => {
    if (server.silent) return;
    const answer = reply(message, server.zone);
    if (answer === undefined) return;
    server.queries++;
    socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  (server as { address: string }).address = `127.0.0.1:${socket.address().port}`;
  return server;
}
