import { ConfigError, ErrorCode } from '../errors.js';
import { adaptive } from './strategies/adaptive.js';
import { consistentHash } from './strategies/consistent-hash.js';
import { leastConnections } from './strategies/least-connections.js';
import { leastLatency } from './strategies/least-latency.js';
import { p2c } from './strategies/p2c.js';
import { priority } from './strategies/priority.js';
import { random } from './strategies/random.js';
import { roundRobin } from './strategies/round-robin.js';
import { weightedRandom } from './strategies/weighted-random.js';
import type { Balancer, BalancerDeps, BalancerFactory } from './types.js';

/** The strategy a group uses when its config names none. */
export const DEFAULT_STRATEGY = 'round-robin';

const BUILTIN: ReadonlyArray<readonly [string, BalancerFactory]> = [
  ['round-robin', roundRobin],
  ['random', random],
  ['least-connections', leastConnections],
  ['least-latency', leastLatency],
  ['weighted-random', weightedRandom],
  ['consistent-hash', consistentHash],
  ['priority', priority],
  ['p2c', p2c],
  ['adaptive', adaptive],
];

/**
 * Load-balancing strategies by name. Each manager has its own, with the built-in strategies
 * registered (`manager.registerBalancer()` adds to it), like its transports.
 */
export class BalancerRegistry {
  private readonly factories = new Map<string, BalancerFactory>(BUILTIN);

  /**
   * Registers a strategy under `name`, so that groups can use it
   * (`groups: { payments: { strategy: name, options: {…} } }`). Registering a name again
   * replaces the earlier factory, built-in ones included.
   */
  register(name: string, factory: BalancerFactory): void {
    if (name.trim() === '') throw new TypeError('A balancer name must not be empty');
    this.factories.set(name, factory);
  }

  /** Names of the registered strategies, built-in ones first. */
  names(): string[] {
    return [...this.factories.keys()];
  }

  /**
   * Creates the strategy `name` with a group's `options`. Called once per group, when the group
   * is created or its `groups` entry changes; a group keeps its balancer while members come and
   * go.
   *
   * @throws {ConfigError} when `name` is not registered or an option is unknown or invalid
   * (paths are relative to the group: `strategy`, `options.virtualNodes`).
   */
  create(
    name: string = DEFAULT_STRATEGY,
    options: Readonly<Record<string, unknown>> = {},
    deps: BalancerDeps = {},
  ): Balancer {
    const factory = this.factories.get(name);
    if (factory === undefined) {
      throw new ConfigError([
        {
          path: 'strategy',
          message: `unknown strategy; valid strategies: ${this.names().join(', ')}`,
          code: ErrorCode.InvalidConfig,
        },
      ]);
    }
    return factory(options, deps);
  }
}

/** The built-in strategies alone (what a new manager starts with): for tools and tests. */
const builtins = new BalancerRegistry();

/** Names of the built-in strategies. */
export function balancerNames(): string[] {
  return builtins.names();
}

/** Creates a built-in strategy: see {@link BalancerRegistry.create}. */
export function createBalancer(
  name?: string,
  options?: Readonly<Record<string, unknown>>,
  deps?: BalancerDeps,
): Balancer {
  return builtins.create(name, options, deps);
}
