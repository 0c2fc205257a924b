import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GroupRoute } from '../balance/GroupRoute.js';
import { seededRandom } from '../balance/random.js';
import { createBalancer } from '../balance/registry.js';
import type { PluginSlot } from './PluginSlot.js';
import { Targets } from './Targets.js';

/** Just what Targets reads of a slot: its name and its config's group. */
function slot(name: string, group: string | undefined): PluginSlot {
  return { name, config: { group } } as unknown as PluginSlot;
}

test("a group's members stay those of its plugins, in the plugins' order, across adds, swaps, moves and removals", () => {
  const random = seededRandom(14);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const groups = ['g1', 'g2', undefined];
  const targets = new Targets();
  for (const group of ['g1', 'g2']) targets.setGroup(group, createBalancer('round-robin'));

  for (let step = 0; step < 3_000; step++) {
    const running = [...targets.plugins()];
    const roll = random();
    if (running.length === 0 || roll < 0.3) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
        slot(`p${Math.floor(random() * 40)}`, pick(groups)),
      ).filter(
        (s, i, all) => !targets.has(s.name) && all.findIndex((o) => o.name === s.name) === i,
      );
      targets.addAll(batch);
    } else if (roll < 0.55) {
      const old = pick(running);
      targets.swap(old, slot(old.name, pick(groups)));
    } else if (roll < 0.8) {
      const moving = pick(running);
      const previous = moving.config.group;
      moving.config.group = pick(groups);
      targets.moved(moving, previous);
    } else {
      assert.equal(targets.remove(pick(running)), true);
    }
    for (const group of ['g1', 'g2']) {
      const route = targets.route(group) as GroupRoute<PluginSlot>;
      const expected = [...targets.plugins()].filter((s) => s.config.group === group);
      assert.deepEqual(
        route.members.map((s) => s.name),
        expected.map((s) => s.name),
        `step ${step}, group ${group}`,
      );
      assert.ok(route.members.every((m, i) => m === expected[i]));
    }
  }
});
