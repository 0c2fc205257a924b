/**
 * One host process of bench/cluster-live.ts: for each row the bench sends (IPC), a fresh plugwire
 * Manager with a group `workers` over the 4 instances (HTTP transport), the row's strategy and,
 * for cluster-aware rows, a `cluster` section on the bench's redis-server. It replays its share
 * of the arrival trace open-loop (each call starts at its time, whatever the others do), and
 * sends back each call's latency, measured from its scheduled arrival to its answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager } from '../../src/index.js';

/** One call of the trace: when (ms after the start), which operation, how long it works. */
export type Arrival = [index: number, at: number, operation: string, ms: number];

export interface RowMessage {
  type: 'row';
  strategy: string;
  endpoints: string[];
  /** The cluster section's fields, or null for a host alone. */
  cluster: { url: string; namespace: string; viewInterval: number } | null;
  /** Other hosts whose view must be combined before the row starts. */
  peers: number;
  arrivals: Arrival[];
}

export interface GoMessage {
  type: 'go';
  /** Date.now() at which arrival time 0 falls, the same for every host. */
  startAt: number;
}

export interface DoneMessage {
  type: 'done';
  /** [index, latency ms, ok] per call. */
  calls: Array<[number, number, boolean]>;
  errors: string[];
  /** How late calls were started against their schedule (event-loop lag), ms. */
  lagMean: number;
  lagMax: number;
  view: { exchanges: number; failures: number; replicas: number } | null;
}

const me = process.argv[2] ?? `h${process.pid}`;
let manager: Manager<{ ms: number }, string> | undefined;
let row: RowMessage | undefined;

// The bench is gone (finished, or killed): so are we.
process.on('disconnect', () => process.exit(0));
process.on('message', (message: RowMessage | GoMessage | { type: 'exit' }) => {
  if (message.type === 'row') void prepare(message).catch(fail);
  else if (message.type === 'go') void run(message.startAt).catch(fail);
  else process.exit(0);
});
process.send!({ type: 'started' });

function fail(error: unknown): void {
  process.send!({ type: 'failed', error: String((error as Error)?.stack ?? error) });
}

async function prepare(message: RowMessage): Promise<void> {
  row = message;
  manager = new Manager<{ ms: number }, string>();
  const { cluster } = message;
  await manager.load({
    ...(cluster === null
      ? {}
      : {
          cluster: {
            redis: { url: cluster.url },
            namespace: cluster.namespace,
            replicaId: me,
            viewInterval: cluster.viewInterval,
          },
        }),
    groups: { workers: { strategy: message.strategy } },
    plugins: message.endpoints.map((endpoint, i) => ({
      name: `i${i + 1}`,
      transport: 'http',
      endpoint,
      group: 'workers',
      healthCheck: { enabled: false },
      // Every call counts once: no retry, no breaker between the strategy and the instances.
      retry: { maxRetries: 0 },
      circuitBreaker: { enabled: false },
      // Queueing happens at the instances (2 slots, FIFO), not in the host's connection pool.
      connection: { maxConnections: 256, maxPending: 4096 },
    })),
  });
  if (cluster !== null && message.peers > 0) {
    const until = performance.now() + 15_000;
    while (manager.cluster()!.view.replicas < message.peers) {
      if (performance.now() > until) throw new Error(`${me}: the other hosts' views never came`);
      await sleep(10);
    }
  }
  process.send!({ type: 'ready' });
}

async function run(startAt: number): Promise<void> {
  const m = manager!;
  const arrivals = row!.arrivals;
  const calls: DoneMessage['calls'] = [];
  const errors: string[] = [];
  let lagSum = 0;
  let lagMax = 0;
  // performance.now() of arrival time 0 (startAt is on the shared wall clock).
  const origin = performance.now() + (startAt - Date.now());
  const pending: Array<Promise<void>> = [];
  const call = async ([index, at, operation, ms]: Arrival) => {
    const scheduled = origin + at;
    const lag = performance.now() - scheduled;
    lagSum += lag;
    lagMax = Math.max(lagMax, lag);
    try {
      await m.execute('workers', { ms }, { operation });
      calls.push([index, performance.now() - scheduled, true]);
    } catch (error) {
      calls.push([index, performance.now() - scheduled, false]);
      errors.push(String((error as Error).message));
    }
  };
  let next = 0;
  while (next < arrivals.length) {
    const wait = origin + arrivals[next]![1] - performance.now();
    if (wait > 1) await sleep(wait - 0.5);
    const now = performance.now();
    while (next < arrivals.length && origin + arrivals[next]![1] <= now + 0.5) {
      pending.push(call(arrivals[next]!));
      next++;
    }
  }
  await Promise.all(pending);
  const status = m.cluster();
  const view =
    status === undefined
      ? null
      : {
          exchanges: status.view.exchanges,
          failures: status.view.failures,
          replicas: status.view.replicas,
        };
  await m.shutdown();
  manager = undefined;
  const done: DoneMessage = {
    type: 'done',
    calls,
    errors: [...new Set(errors)].slice(0, 5),
    lagMean: arrivals.length === 0 ? 0 : lagSum / arrivals.length,
    lagMax,
    view,
  };
  process.send!(done);
}
