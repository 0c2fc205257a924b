/** Something with a deadline, linked into the lane of its timeout (no allocation per entry). */
export interface Expiring {
  /** When it expires, on the `performance.now()` clock. */
  readonly expiresAt: number;
  prevDue: Expiring | undefined;
  nextDue: Expiring | undefined;
  /** Called once when its deadline passes, unless it was removed before. */
  expire(): void;
}

/**
 * The deadlines of calls in flight, with one timer per distinct timeout instead of one per call.
 * It is also the register of calls in flight (`entries()`): a linked list costs nothing to join
 * and leave, where a `Set` of call objects cost ~0.8 µs per call under concurrency (identity
 * hashes and rehashing as calls come and go).
 *
 * Calls with the same timeout expire in the order they started, so each timeout value has a
 * lane: a FIFO (intrusive doubly linked list, O(1) add and remove) with one timer armed for its
 * head. When the timer fires it expires every head that is due and re-arms for the next one.
 * A lane that empties keeps its timer but unrefs it, so a steady stream of calls does not arm
 * and clear a libuv timer per call, and an idle process can still exit.
 */
export class Deadlines {
  private readonly lanes = new Map<number, Lane>();

  /** Watches `entry`, whose deadline is `timeoutMs` from now. Returns the lane to leave. */
  watch(entry: Expiring, timeoutMs: number): Lane {
    let lane = this.lanes.get(timeoutMs);
    if (lane === undefined) this.lanes.set(timeoutMs, (lane = new Lane(timeoutMs, this.lanes)));
    lane.add(entry);
    return lane;
  }

  /** Every entry watched now (the calls in flight), oldest first within each timeout. */
  entries(): Expiring[] {
    const all: Expiring[] = [];
    for (const lane of this.lanes.values()) lane.collect(all);
    return all;
  }

  /** Clears every timer (shutdown). Entries still watched are not expired. */
  dispose(): void {
    for (const lane of this.lanes.values()) lane.dispose();
    this.lanes.clear();
  }
}

/** The entries sharing one timeout, oldest first. */
export class Lane {
  private head: Expiring | undefined;
  private tail: Expiring | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly lanes: Map<number, Lane>,
  ) {}

  add(entry: Expiring): void {
    entry.prevDue = this.tail;
    entry.nextDue = undefined;
    if (this.tail === undefined) this.head = entry;
    else this.tail.nextDue = entry;
    this.tail = entry;
    if (this.timer === undefined) this.timer = setTimeout(fire, this.timeoutMs, this);
    else if (this.head === entry) this.timer.ref(); // the lane was idle
  }

  /** `entry` settled before its deadline: stop watching it. */
  remove(entry: Expiring): void {
    const { prevDue: prev, nextDue: next } = entry;
    if (prev === undefined) {
      if (this.head !== entry) return; // not (or no longer) in this lane
      this.head = next;
    } else {
      prev.nextDue = next;
    }
    if (next === undefined) this.tail = prev;
    else next.prevDue = prev;
    entry.prevDue = entry.nextDue = undefined;
    if (this.head === undefined) this.timer?.unref();
  }

  /** @internal the timer fired: expire what is due, re-arm for the next head. */
  fire(): void {
    this.timer = undefined;
    const now = performance.now();
    let entry = this.head;
    while (entry !== undefined && entry.expiresAt <= now) {
      this.remove(entry);
      entry.expire();
      entry = this.head;
    }
    if (this.head === undefined) {
      if (this.timer === undefined && this.lanes.get(this.timeoutMs) === this) {
        this.lanes.delete(this.timeoutMs);
      }
    } else if (this.timer === undefined) {
      this.timer = setTimeout(fire, Math.max(1, Math.ceil(this.head.expiresAt - now)), this);
    }
  }

  collect(into: Expiring[]): void {
    for (let entry = this.head; entry !== undefined; entry = entry.nextDue) into.push(entry);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = undefined;
  }
}

function fire(lane: Lane): void {
  lane.fire();
}
