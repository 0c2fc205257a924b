import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterConfig } from '../config/cluster-schema.js';
import type { TypedEvents } from '../events.js';
import type { Logger } from '../types.js';
import { dnsResolver, resolveMembers } from './dns.js';
import {
  MEMBERS_SCRIPT,
  memberKeys,
  readAnnouncement,
  type MemberAnnouncement,
} from './registry.js';

/** Timeout of one DNS query (tried twice). */
const DNS_TIMEOUT_MS = 2_000;

interface MembersRedis extends Redis {
  plugwireMembers(expiries: string, data: string): Promise<unknown[]>;
}

/**
 * The groups of `cluster.members`: their members come from the registry, where instances
 * announce themselves (`serveHttp({ announce })`), or from DNS (a group with `dns`: A/AAAA/SRV
 * records resolved again every `refresh`). Each group is read every `refresh`; a change
 * (joined, left, expired, re-described) is handed to the manager, which applies it through the
 * reload path: new members are started and health-gated, gone ones drained, then closed.
 * While Redis (or DNS) does not answer, the last list known stays: nobody is removed for it.
 */
export class Membership {
  /** Group → id → what the member announced. */
  private readonly known = new Map<string, Map<string, MemberAnnouncement>>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Groups whose members come from DNS: their resolver. */
  private readonly resolvers = new Map<string, ReturnType<typeof dnsResolver>>();
  /** Groups being read now (a slow DNS answer does not stack reads). */
  private readonly reading = new Set<string>();
  private stopped = false;

  constructor(
    private readonly config: ClusterConfig,
    private readonly redis: Redis,
    private readonly hooks: { logger: Logger; events: TypedEvents; changed(): void },
  ) {
    redis.defineCommand('plugwireMembers', { numberOfKeys: 2, lua: MEMBERS_SCRIPT });
    for (const [group, settings] of Object.entries(config.members)) {
      this.known.set(group, new Map());
      if (settings.dns !== undefined) {
        // A query's timeout is not the refresh: a slow answer delays the next read (one
        // read at a time per group), it does not count as "DNS did not answer".
        this.resolvers.set(group, dnsResolver(settings.dns, DNS_TIMEOUT_MS));
      }
      const timer = setInterval(() => void this.refresh(group), settings.refresh);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Reads every group once (at the first load, so that it starts with its members). */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.known.keys()].map((group) => this.refresh(group, false)));
  }

  /** The plugin entries of every member known now, each built on its group's template. */
  plugins(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const [group, members] of this.known) {
      const template = this.config.members[group]!.template;
      for (const member of members.values()) {
        out.push({
          ...template,
          name: memberName(group, member.id),
          group,
          transport: member.transport,
          endpoint: member.endpoint,
          weight: member.weight,
          labels: { ...(template.labels as Record<string, string> | undefined), ...member.labels },
        });
      }
    }
    return out;
  }

  /** Member counts per group. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.known].map(([group, members]) => [group, members.size]));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const resolver of this.resolvers.values()) resolver.cancel();
  }

  /** The group's members now: from DNS or the registry; undefined when neither answered. */
  private async read(group: string): Promise<MemberAnnouncement[] | undefined> {
    const resolver = this.resolvers.get(group);
    if (resolver !== undefined) return resolveMembers(this.config.members[group]!.dns!, resolver);
    let replies: unknown[];
    try {
      replies = await (this.redis as MembersRedis).plugwireMembers(
        ...memberKeys(this.config.namespace, group),
      );
    } catch {
      return undefined; // Redis unreachable (the node reports Redis' state)
    }
    return replies.flatMap((reply) => readAnnouncement(reply) ?? []);
  }

  private async refresh(group: string, notify = true): Promise<void> {
    if (this.reading.has(group)) return;
    this.reading.add(group);
    let members: MemberAnnouncement[] | undefined;
    try {
      members = await this.read(group);
    } finally {
      this.reading.delete(group);
    }
    // Neither Redis nor DNS answered: keep the members we know.
    if (members === undefined || this.stopped) return;
    const next = new Map<string, MemberAnnouncement>();
    for (const member of members) next.set(member.id, member);
    const previous = this.known.get(group)!;
    const joined = [...next.keys()].filter((id) => !previous.has(id));
    const left = [...previous.keys()].filter((id) => !next.has(id));
    const changed = [...next].some(
      ([id, m]) => previous.has(id) && JSON.stringify(previous.get(id)) !== JSON.stringify(m),
    );
    if (joined.length === 0 && left.length === 0 && !changed) return;
    this.known.set(group, next);
    for (const id of joined) {
      this.hooks.events.emit('cluster-member', {
        group,
        plugin: memberName(group, id),
        change: 'joined',
      });
    }
    for (const id of left) {
      this.hooks.events.emit('cluster-member', {
        group,
        plugin: memberName(group, id),
        change: 'left',
      });
    }
    this.hooks.logger.info({ group, joined, left }, 'plugwire: cluster members changed');
    if (notify) this.hooks.changed();
  }
}

/**
 * The plugin name of a member: the group, then the id made name-safe, then a short hash of the
 * exact id (two ids that read alike stay two plugins; the same id is always the same plugin).
 */
export function memberName(group: string, id: string): string {
  const safe = id
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
    .slice(0, 64);
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 6);
  return `${group}.${safe}-${hash}`.slice(0, 128);
}
