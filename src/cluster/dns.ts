import { promises as dns } from 'node:dns';
import type { ClusterDnsConfig } from '../config/types.js';
import type { MemberAnnouncement } from './registry.js';

// DNS errors that are an answer: the name has no such records (a Service scaled to zero, or
// deleted). Anything else (timeout, refused, SERVFAIL) says nothing about the members.
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

function noRecords(error: unknown): boolean {
  return NO_RECORDS.has((error as { code?: string } | undefined)?.code ?? '');
}

/** A resolver for `config`: the system's servers, or `config.servers`. */
export function dnsResolver(config: ClusterDnsConfig, timeoutMs: number): dns.Resolver {
  const resolver = new dns.Resolver({ timeout: Math.max(100, timeoutMs), tries: 2 });
  if (config.servers !== undefined) resolver.setServers(config.servers);
  return resolver;
}

/**
 * The members `config.name` resolves to now, as announcements (id `address:port` or
 * `target:port`); undefined when DNS did not answer (the caller keeps what it knew). A name
 * with no records at all resolves to no members.
 */
export async function resolveMembers(
  config: ClusterDnsConfig,
  resolver: dns.Resolver,
): Promise<MemberAnnouncement[] | undefined> {
  const member = (host: string, port: number, weight = 1): MemberAnnouncement => {
    const literal = host.includes(':') ? `[${host}]` : host;
    const hostPort = `${literal}:${port}`;
    return {
      id: hostPort,
      transport: config.transport,
      endpoint: config.transport.startsWith('grpc')
        ? hostPort
        : `${config.transport}://${hostPort}${config.path}`,
      weight,
      labels: { source: 'dns' },
    };
  };
  if (config.type === 'SRV') {
    try {
      const records = await resolver.resolveSrv(config.name);
      // SRV weight 0 means "rarely": the smallest share the balancers know.
      return records.map((r) => member(r.name, r.port, Math.max(r.weight, 1)));
    } catch (error) {
      return noRecords(error) ? [] : undefined;
    }
  }
  const lookups: Array<Promise<string[]>> = [];
  if (config.type !== 'AAAA') lookups.push(resolver.resolve4(config.name));
  if (config.type !== 'A') lookups.push(resolver.resolve6(config.name));
  const results = await Promise.allSettled(lookups);
  const addresses: string[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') addresses.push(...result.value);
    else if (!noRecords(result.reason)) return undefined;
  }
  return [...new Set(addresses)].map((address) => member(address, config.port!));
}
