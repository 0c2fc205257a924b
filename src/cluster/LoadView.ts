import type { Redis } from 'ioredis';
import type { RemoteLoad, SharedOperation, SharesLoad } from '../balance/remote.js';
import type { Balancer, Candidate } from '../balance/types.js';
import type { TypedEvents } from '../events.js';
import type { Logger } from '../types.js';
import { VIEW_SCRIPT } from './scripts.js';

/** A member as the view reads it, and writes what the other replicas said about it. */
export interface ViewMember extends Candidate {
  remote: RemoteLoad | undefined;
}

/** A group as the view reads it (a `GroupRoute` of plugin slots). */
export interface ViewGroup {
  readonly name: string;
  readonly members: readonly ViewMember[];
  readonly balancer: Balancer;
}

/** What the view needs from the manager. */
export interface ViewHooks {
  logger: Logger;
  events: TypedEvents;
  /** The groups whose load is published and combined. */
  groups(): Iterable<ViewGroup>;
  /** Another replica hinted that `plugin` failed (breaker opened, ejected): probe it sooner. */
  probe(plugin: string): void;
}

interface ViewRedis extends Redis {
  plugwireView(key: string, id: string, ttl: number, json: string): Promise<string[]>;
  plugwireViewLeave(key: string, id: string): Promise<number>;
}

/** One member as published: in flight, outstanding work (ms), latency estimate (ms). */
export type PublishedMember = [inFlight: number, work: number, latency: number];

/** One group as a replica publishes it: its members' load, per-operation `[operation, sum, count]`. */
export interface PublishedGroup {
  m: Record<string, PublishedMember>;
  o: Array<[string, number, number]>;
}

/** What one replica publishes. */
interface Published {
  /** Per group. */
  g: Record<string, PublishedGroup>;
  /** Hints: plugins this replica saw fail (breaker opened, ejected), each with a sequence number. */
  h: Array<[string, number]>;
}

interface Received {
  view: Published;
  /** performance.now() when read, and its age in Redis' time then. */
  at: number;
  age: number;
}

// Operations published per group at most (the most recently measured).
const MAX_OPERATIONS = 64;
// Published numbers keep this many decimals: the JSON stays short.
const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * The shared load view (docs/cluster.md): every `viewInterval`, one Redis script writes this
 * replica's view (per member of each group: calls in flight, outstanding work, latency estimate;
 * per operation: recent latencies; recent hints) and returns the other replicas' fresh views, in
 * one round trip. The others' load is summed onto each member (`Candidate.remote`), so that
 * least-connections, p2c and adaptive weigh what every replica sends; their operation statistics
 * are merged into the strategies' own.
 *
 * Nothing here is on a call's path: a pick reads a field set by the last exchange. A view older
 * than `viewTtl` (its replica gone, or Redis unreachable since) is dropped, so the strategies fall
 * back to this replica's own view within `viewTtl`.
 */
export class LoadView {
  readonly stats = { exchanges: 0, failures: 0, hintsSent: 0, hintsReceived: 0 };
  private readonly key: string;
  private readonly timer: NodeJS.Timeout;
  private readonly views = new Map<string, Received>();
  /** Per other replica, the last hint sequence number acted on. */
  private readonly hintsSeen = new Map<string, number>();
  private hints: Array<{ plugin: string; seq: number; at: number }> = [];
  private hintSeq = 0;
  private running = false;
  private stopped = false;
  private lastExchange: number | undefined;
  private inUse = 0;

  constructor(
    namespace: string,
    private readonly replicaId: string,
    interval: number,
    private readonly ttl: number,
    private readonly redis: Redis,
    private readonly usable: () => boolean,
    private readonly hooks: ViewHooks,
  ) {
    this.key = `${namespace}:view`;
    redis.defineCommand('plugwireView', { numberOfKeys: 1, lua: VIEW_SCRIPT });
    redis.defineCommand('plugwireViewLeave', {
      numberOfKeys: 1,
      lua: "return redis.call('HDEL', KEYS[1], ARGV[1])",
    });
    this.timer = setInterval(() => void this.tick(), interval);
    this.timer.unref();
  }

  /** Other replicas whose view is in use now. */
  get replicas(): number {
    return this.inUse;
  }

  /** Ms since the last successful exchange; undefined before the first. */
  get ageMs(): number | undefined {
    return this.lastExchange === undefined ? undefined : performance.now() - this.lastExchange;
  }

  /**
   * This replica saw `plugin` fail (its breaker opened, or it was ejected): the other replicas
   * learn it at the next exchange and probe it sooner. They decide for themselves.
   */
  hint(plugin: string): void {
    if (this.stopped) return;
    this.hints.push({ plugin, seq: ++this.hintSeq, at: performance.now() });
    this.stats.hintsSent++;
  }

  /** One exchange now (tests; the timer does it every `viewInterval`). */
  async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const now = performance.now();
      this.hints = this.hints.filter((h) => now - h.at <= this.ttl);
      const groups = [...this.hooks.groups()];
      // Even without groups: hints concern any plugin named alike on every replica.
      if (this.usable()) await this.exchange(groups);
      if (!this.stopped) this.combine(groups);
    } finally {
      this.running = false;
    }
  }

  /** Stops publishing, withdraws this replica's view (best effort) and clears what it set. */
  async stop(withdraw: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.views.clear();
    this.combine([...this.hooks.groups()]);
    if (withdraw) {
      await (this.redis as ViewRedis)
        .plugwireViewLeave(this.key, this.replicaId)
        .catch(() => undefined);
    }
  }

  private async exchange(groups: readonly ViewGroup[]): Promise<void> {
    const published: Published = { g: {}, h: this.hints.map((h) => [h.plugin, h.seq]) };
    for (const group of groups) published.g[group.name] = publishGroup(group);
    let reply: string[];
    try {
      reply = await (this.redis as ViewRedis).plugwireView(
        this.key,
        this.replicaId,
        this.ttl,
        JSON.stringify(published),
      );
    } catch {
      this.stats.failures++; // the node sees Redis' state through its own commands
      return;
    }
    if (this.stopped) return;
    this.stats.exchanges++;
    const at = performance.now();
    this.lastExchange = at;
    const seen = new Set<string>();
    for (let i = 0; i + 2 < reply.length; i += 3) {
      const id = String(reply[i]);
      const view = readView(reply[i + 2]);
      if (view === undefined) continue;
      seen.add(id);
      this.views.set(id, { view, at, age: Number(reply[i + 1]) || 0 });
      this.actOnHints(id, view);
    }
    // Replicas not returned left (or expired in Redis): drop them now.
    for (const id of this.views.keys()) if (!seen.has(id)) this.views.delete(id);
    for (const id of this.hintsSeen.keys()) if (!seen.has(id)) this.hintsSeen.delete(id);
  }

  private actOnHints(from: string, view: Published): void {
    const last = this.hintsSeen.get(from);
    let max = last ?? 0;
    for (const [plugin, seq] of view.h) {
      if (last !== undefined && seq <= last) continue;
      max = Math.max(max, seq);
      this.stats.hintsReceived++;
      this.hooks.events.emit('cluster-hint', { plugin, from });
      this.hooks.probe(plugin);
    }
    this.hintsSeen.set(from, max);
  }

  /** Sums the fresh views onto the members; drops the views that aged out. */
  private combine(groups: ViewGroup[]): void {
    const now = performance.now();
    for (const [id, received] of this.views) {
      if (received.age + (now - received.at) > this.ttl) this.views.delete(id);
    }
    const previous = this.inUse;
    this.inUse = this.views.size;
    if (this.inUse !== previous) {
      this.hooks.events.emit('cluster-view', { replicas: this.inUse, previous });
    }
    for (const group of groups) {
      const parts: PublishedGroup[] = [];
      for (const { view } of this.views.values()) {
        const part = view.g[group.name];
        if (part !== undefined) parts.push(part);
      }
      applyViews(group, parts);
    }
  }
}

/** What this replica publishes about `group`: its members' load, its operation statistics. */
export function publishGroup(group: ViewGroup): PublishedGroup {
  const balancer = group.balancer as Balancer & SharesLoad;
  const members = group.members;
  const m: Record<string, PublishedMember> = {};
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!;
    const work = balancer.sharedWork?.(members, i) ?? 0;
    m[member.name] = [member.inFlight, round(work), round(member.latency.estimate())];
  }
  return { m, o: balancer.localOperations?.(MAX_OPERATIONS) ?? [] };
}

/**
 * Sums the other replicas' views of `group` (`parts`, one per fresh replica) onto its members
 * (`Candidate.remote`) and merges their operation statistics into its strategy's; no parts
 * clears both (local decisions only).
 */
export function applyViews(group: ViewGroup, parts: readonly PublishedGroup[]): void {
  const balancer = group.balancer as Balancer & SharesLoad;
  for (const member of group.members) {
    let inFlight = 0;
    let work = 0;
    let latency = 0;
    let measured = 0;
    let found = false;
    for (const part of parts) {
      const entry = part.m[member.name];
      if (entry === undefined) continue;
      found = true;
      inFlight += entry[0];
      work += entry[1];
      if (entry[2] > 0) {
        latency += entry[2];
        measured++;
      }
    }
    member.remote = found
      ? { inFlight, work, latency: measured === 0 ? 0 : latency / measured }
      : undefined;
  }
  if (balancer.setSharedOperations !== undefined) {
    const operations = new Map<string, SharedOperation>();
    for (const part of parts) {
      for (const [operation, sum, count] of part.o) {
        const merged = operations.get(operation);
        if (merged === undefined) operations.set(operation, { sum, count });
        else {
          merged.sum += sum;
          merged.count += count;
        }
      }
    }
    balancer.setSharedOperations(operations.size === 0 ? undefined : operations);
  }
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** Reads another replica's view; never trusted blindly (undefined when malformed). */
function readView(json: unknown): Published | undefined {
  if (typeof json !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as { g?: unknown; h?: unknown };
  const out: Published = { g: {}, h: [] };
  if (typeof raw.g === 'object' && raw.g !== null) {
    for (const [group, part] of Object.entries(raw.g as Record<string, unknown>)) {
      if (typeof part !== 'object' || part === null) continue;
      const { m, o } = part as { m?: unknown; o?: unknown };
      const members: Record<string, PublishedMember> = {};
      if (typeof m === 'object' && m !== null) {
        for (const [name, e] of Object.entries(m as Record<string, unknown>)) {
          if (Array.isArray(e) && finite(e[0]) && finite(e[1]) && finite(e[2])) {
            members[name] = [e[0], e[1], e[2]];
          }
        }
      }
      const operations: Array<[string, number, number]> = [];
      if (Array.isArray(o)) {
        for (const e of o.slice(0, MAX_OPERATIONS)) {
          if (Array.isArray(e) && typeof e[0] === 'string' && finite(e[1]) && finite(e[2])) {
            operations.push([e[0], e[1], e[2]]);
          }
        }
      }
      out.g[group] = { m: members, o: operations };
    }
  }
  if (Array.isArray(raw.h)) {
    for (const e of raw.h) {
      if (Array.isArray(e) && typeof e[0] === 'string' && finite(e[1])) out.h.push([e[0], e[1]]);
    }
  }
  return out;
}
