import { GroupRoute, type GroupPolicy } from '../balance/GroupRoute.js';
import { OutlierDetector, type OutlierEvent } from '../balance/OutlierDetector.js';
import { BalancerRegistry } from '../balance/registry.js';
import { DEFAULT_POLICY, DEFAULT_RETRY_BUDGET } from '../config/defaults.js';
import { RetryBudget } from '../resilience/RetryBudget.js';
import type { Balancer } from '../balance/types.js';
import type {
  GroupConfig,
  ManagerConfig,
  PolicyConfig,
  RetryBudgetConfig,
} from '../config/types.js';
import { ErrorCode, isConfigError, type ConfigIssue } from '../errors.js';
import type { PluginSlot, Route } from './PluginSlot.js';

/** Options of {@link Targets}. */
export interface TargetsOptions {
  /** Where groups' balancers come from (the manager's registry). */
  strategies?: BalancerRegistry | undefined;
  /** Told of each ejection and return of a group member (events, logs, metrics). */
  onOutlier?: ((group: string, event: OutlierEvent) => void) | undefined;
}

/**
 * Every execute target by name: plugins (their slots) and groups share one namespace. The
 * pipeline reads routes from here; load, register and reload change it, one slot or group at a
 * time, so that a name always leads to exactly one route.
 */
export class Targets<S extends PluginSlot = PluginSlot> {
  private readonly slots = new Map<string, S>();
  private readonly routes = new Map<string, Route>();
  private readonly groups = new Map<string, GroupRoute<PluginSlot>>();
  /** Each group's members by name, in the order of `slots`: a join or leave is O(1). */
  private readonly members = new Map<string, Map<string, S>>();
  /** Where a group's policy comes from when its section does not set it (the first load's). */
  policyBase: { defaults: PolicyConfig; retryBudget: RetryBudgetConfig } = {
    defaults: DEFAULT_POLICY,
    retryBudget: DEFAULT_RETRY_BUDGET,
  };

  private readonly strategies: BalancerRegistry;

  constructor(private readonly options: TargetsOptions = {}) {
    this.strategies = options.strategies ?? new BalancerRegistry();
  }

  route(target: string): Route | undefined {
    return this.routes.get(target);
  }

  slot(name: string): S | undefined {
    return this.slots.get(name);
  }

  has(name: string): boolean {
    return this.routes.has(name);
  }

  /** The groups (the cluster's load view publishes and combines their members' load). */
  groupRoutes(): IterableIterator<GroupRoute<PluginSlot>> {
    return this.groups.values();
  }

  /** Plugins in the order they were added (config order). */
  plugins(): IterableIterator<S> {
    return this.slots.values();
  }

  get size(): number {
    return this.slots.size;
  }

  /** Routes `slot` under its name, and in its group. */
  add(slot: S): void {
    this.addAll([slot]);
  }

  /** Routes each of `slots` under its name and in its group; each group is rebuilt once. */
  addAll(slots: readonly S[]): void {
    const touched = new Set<string | undefined>();
    for (const slot of slots) {
      const appended = !this.slots.has(slot.name);
      this.slots.set(slot.name, slot);
      this.routes.set(slot.name, slot);
      this.join(slot, appended);
      touched.add(slot.config.group);
    }
    for (const group of touched) this.refreshGroup(group);
  }

  /** Stops routing to `slot` (if its name still leads to it). Returns whether it did. */
  remove(slot: S): boolean {
    if (this.slots.get(slot.name) !== slot) return false;
    this.slots.delete(slot.name);
    this.routes.delete(slot.name);
    this.leave(slot, slot.config.group);
    this.refreshGroup(slot.config.group);
    return true;
  }

  /** The name of `old` leads to `next` from now on (a reload's replacement). */
  swap(old: S, next: S): void {
    this.slots.set(next.name, next);
    this.routes.set(next.name, next);
    if (next.config.group !== old.config.group) this.leave(old, old.config.group);
    this.join(next, false); // same group: takes the place of `old`
    this.refreshGroup(old.config.group);
    if (next.config.group !== old.config.group) this.refreshGroup(next.config.group);
  }

  /** A plugin's group, weight or priority changed in place. */
  moved(slot: S, previousGroup: string | undefined): void {
    if (previousGroup !== slot.config.group) {
      this.leave(slot, previousGroup);
      this.join(slot, false);
      this.refreshGroup(previousGroup);
      this.refreshGroup(slot.config.group);
    } else if (slot.config.group !== undefined) {
      this.groups.get(slot.config.group)?.refresh();
    }
  }

  /**
   * Adds (or replaces) the group `name` with `balancer`, members taken from the plugins. Its
   * policy comes from `config` (the `groups.<name>` section), else from `defaults`: never from
   * a member (docs/resilience.md, "Groups"). With `config.outlierDetection` enabled, the group
   * ejects outliers.
   */
  setGroup(name: string, balancer: Balancer, config?: GroupConfig): void {
    const { defaults, retryBudget } = this.policyBase;
    const policy: GroupPolicy = {
      retry: config?.retry ?? defaults.retry,
      requestTimeout: config?.timeout ?? defaults.connection.requestTimeout,
      budget: new RetryBudget(config?.retryBudget ?? retryBudget),
      idempotent: config?.idempotent ?? false,
      hedging: config?.hedging,
    };
    const group = new GroupRoute<PluginSlot>(name, this.membersOf(name), balancer, policy);
    const outliers = config?.outlierDetection;
    if (outliers?.enabled === true) {
      const onOutlier = this.options.onOutlier;
      group.detectOutliers(
        new OutlierDetector(outliers, (event) => {
          // A member back from an ejection is measured again, not rated on its penalties.
          if (event.kind === 'returned') group.probe(event.member as PluginSlot);
          onOutlier?.(name, event);
        }),
      );
    }
    this.groups.set(name, group);
    this.routes.set(name, group);
  }

  /** Creates the group a plugin names, with the default strategy, if it does not exist. */
  ensureGroup(name: string | undefined): void {
    if (name !== undefined && !this.groups.has(name)) this.setGroup(name, this.strategies.create());
  }

  /** Drops the groups among `names` that have no member left. */
  dropEmptyGroups(names: readonly string[]): void {
    for (const name of names) {
      if (this.groups.get(name)?.members.length === 0) {
        this.groups.delete(name);
        this.routes.delete(name);
      }
    }
  }

  clear(): void {
    this.members.clear();
    this.slots.clear();
    this.routes.clear();
    this.groups.clear();
  }

  /**
   * Names in `config` that clash with what runs. `load` adds to what runs, so none of its
   * plugin or group names may exist; a `reload` replaces the configured plugins, so only names of
   * plugins registered in code (`isFixed`) are off limits. In both, a group may not be named like
   * a plugin that stays (nor like the plugin that names it).
   */
  clashes(
    config: ManagerConfig,
    mode: 'load' | 'reload',
    isFixed: (slot: S) => boolean,
  ): ConfigIssue[] {
    const problems: ConfigIssue[] = [];
    const clash = (path: string, message: string): void => {
      problems.push({ path, message, code: ErrorCode.DuplicatePluginName });
    };
    // Plugins a group name must not shadow: on load every running one, on reload those that stay.
    const staysAsPlugin = (name: string): boolean => {
      const slot = this.slots.get(name);
      return slot !== undefined && (mode === 'load' || isFixed(slot));
    };
    const sameNamespace = `plugins and groups share one namespace`;
    config.plugins.forEach((plugin, index) => {
      const existing = this.slots.get(plugin.name);
      if (mode === 'load' ? this.routes.has(plugin.name) : existing && isFixed(existing)) {
        clash(
          `plugins[${index}].name`,
          mode === 'load'
            ? `a plugin or group named '${plugin.name}' is already loaded (use reload() to change it)`
            : `'${plugin.name}' is a plugin registered in code; a config cannot replace it`,
        );
      }
      const group = plugin.group;
      if (group !== undefined && (group === plugin.name || staysAsPlugin(group))) {
        clash(`plugins[${index}].group`, `'${group}' is also a plugin name; ${sameNamespace}`);
      }
    });
    for (const name of Object.keys(config.groups)) {
      if (mode === 'load' ? this.routes.has(name) : staysAsPlugin(name)) {
        clash(
          `groups.${name}`,
          mode === 'load'
            ? `a plugin or group named '${name}' is already loaded (use reload() to change it)`
            : `'${name}' is a plugin registered in code; ${sameNamespace}`,
        );
      }
    }
    return problems;
  }

  /**
   * A balancer for each group of `config` that needs a new one: every declared group when
   * `all`, otherwise only groups that do not exist yet (a plugin joining an existing group
   * keeps it). Invalid strategy options are added to `problems`, by path.
   */
  balancers(config: ManagerConfig, all: boolean, problems: ConfigIssue[]): Map<string, Balancer> {
    const balancers = new Map<string, Balancer>();
    const named = new Set([
      ...Object.keys(config.groups),
      ...config.plugins.flatMap((p) => (p.group === undefined ? [] : [p.group])),
    ]);
    for (const name of named) {
      if (!all && this.groups.has(name)) continue;
      const group = config.groups[name];
      try {
        balancers.set(name, this.strategies.create(group?.strategy, group?.options));
      } catch (error) {
        if (!isConfigError(error)) throw error;
        for (const issue of error.issues) {
          problems.push({ ...issue, path: `groups.${name}.${issue.path}` });
        }
      }
    }
    return balancers;
  }

  private membersOf(name: string): PluginSlot[] {
    return [...(this.members.get(name)?.values() ?? [])];
  }

  /**
   * Puts `slot` in its group's members, in the order of `slots`: a name already there keeps its
   * place, a name just `appended` to `slots` goes last; otherwise (a reload moving a plugin from
   * another group) the group's order is taken from `slots` again, O(plugins).
   */
  private join(slot: S, appended: boolean): void {
    const group = slot.config.group;
    if (group === undefined) return;
    let members = this.members.get(group);
    if (members === undefined) this.members.set(group, (members = new Map()));
    if (appended || members.has(slot.name)) {
      members.set(slot.name, slot);
      return;
    }
    members.clear();
    for (const s of this.slots.values()) if (s.config.group === group) members.set(s.name, s);
  }

  private leave(slot: S, group: string | undefined): void {
    if (group === undefined) return;
    const members = this.members.get(group);
    if (members?.get(slot.name) === slot) members.delete(slot.name);
  }

  private refreshGroup(name: string | undefined): void {
    if (name !== undefined) this.groups.get(name)?.setMembers(this.membersOf(name));
  }
}
