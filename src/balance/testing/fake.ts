/** Test doubles for the balancing tests: members, a manual clock and a request that accepts. */
import { DEFAULT_POLICY, DEFAULT_RETRY_BUDGET } from '../../config/defaults.js';
import { RetryBudget } from '../../resilience/RetryBudget.js';
import type { Clock } from '../../resilience/clock.js';
import type { BlockReason } from '../availability.js';
import type { GroupMember } from '../GroupRoute.js';
import { PeakEwma } from '../PeakEwma.js';
import type { RemoteLoad } from '../remote.js';
import type { Candidate, PickRequest } from '../types.js';

/** A clock that moves only when told. */
export class ManualClock {
  time = 0;
  readonly now: Clock = () => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** A group member without a plugin: the fields a strategy and a group read. */
export class FakeMember implements GroupMember {
  weight: number;
  priority: number;
  inFlight = 0;
  blocked: BlockReason | undefined = undefined;
  /** Cluster mode: what other replicas published about this member. */
  remote: RemoteLoad | undefined = undefined;
  readonly latency: PeakEwma;
  retry = DEFAULT_POLICY.retry;
  requestTimeout = DEFAULT_POLICY.connection.requestTimeout;
  readonly budget = new RetryBudget(DEFAULT_RETRY_BUDGET);

  constructor(
    readonly name: string,
    options: { weight?: number; priority?: number; now?: Clock } = {},
  ) {
    this.weight = options.weight ?? 1;
    this.priority = options.priority ?? 0;
    this.latency = new PeakEwma({ now: options.now });
  }

  get available(): boolean {
    return this.blocked === undefined;
  }
}

/** `count` members named m0, m1, … */
export function fakeMembers(
  count: number,
  options: { weight?: number; priority?: number; now?: Clock } = {},
): FakeMember[] {
  return Array.from({ length: count }, (_, i) => new FakeMember(`m${i}`, options));
}

/** A request that accepts the available candidates, with an optional key and operation. */
export function request(
  fields: { key?: string; operation?: string; accepts?: (c: Candidate) => boolean } = {},
): PickRequest {
  return {
    key: fields.key,
    operation: fields.operation,
    accepts: fields.accepts ?? ((candidate) => candidate.available),
  };
}

/** How many times each name was picked. */
export function tally(picks: Iterable<Candidate | undefined>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pick of picks) {
    const name = pick?.name ?? '(none)';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** Pearson's chi-square statistic of observed counts against expected ones. */
export function chiSquare(observed: readonly number[], expected: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    sum += (observed[i]! - e) ** 2 / e;
  }
  return sum;
}

/**
 * Sequential traffic on a manual clock: every `stepMs`, one pick, whose member then reports
 * `latencyOf(member)` (no request overlaps another). Returns the picked names in order.
 */
export function runSequential(
  pick: (members: FakeMember[]) => FakeMember | undefined,
  members: FakeMember[],
  clock: ManualClock,
  latencyOf: (member: FakeMember) => number,
  picks: number,
  stepMs = 50,
): string[] {
  const names: string[] = [];
  for (let i = 0; i < picks; i++) {
    clock.advance(stepMs);
    const member = pick(members);
    if (member === undefined) throw new Error('no member picked');
    member.latency.observe(latencyOf(member));
    names.push(member.name);
  }
  return names;
}

/** What {@link slowFirstMember} drives: a group's pick and its feedback (a `GroupRoute`). */
export interface ObservedRoute {
  pick(request: { key: undefined; operation: undefined; tried: [] }): FakeMember | undefined;
  observe(member: FakeMember, operation: undefined, latencyMs: number, ok: boolean): void;
}

/**
 * Calls 1 ms apart through `route`, each reported back as it ends: `m0` answers in 50 ms while
 * `slow` is set, every other member (and `m0` after) in 1 ms. `run(n)` makes n calls and returns
 * the names picked.
 */
export function slowFirstMember(
  route: ObservedRoute,
  clock: ManualClock,
): { slow: boolean; run(count: number): string[] } {
  const state = {
    slow: true,
    run(count: number): string[] {
      const names: string[] = [];
      for (let i = 0; i < count; i++) {
        clock.advance(1);
        const member = route.pick({ key: undefined, operation: undefined, tried: [] });
        if (member === undefined) throw new Error('no member picked');
        route.observe(member, undefined, member.name === 'm0' && state.slow ? 50 : 1, true);
        names.push(member.name);
      }
      return names;
    },
  };
  return state;
}

/** The share of `name` in `names`. */
export function share(names: readonly string[], name: string): number {
  return names.filter((n) => n === name).length / names.length;
}
