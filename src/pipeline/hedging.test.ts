import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, test } from 'node:test';
import { Manager } from '../manager.js';
import { definePlugin } from '../memory.js';

const managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown()));
});

/** A group of in-process members that answer after `ms`, recording who ran and who was aborted. */
async function slowGroup(
  hedging: { delay: number; maxHedges: number },
  ratio = 1,
  minPerSecond = 10,
  aHangs = true,
) {
  const manager = new Manager<unknown, string>({ builtinTransports: false });
  managers.push(manager);
  await manager.load({
    groups: {
      g: {
        strategy: 'priority',
        idempotent: true,
        hedging,
        retryBudget: { ratio, minPerSecond },
      },
    },
    plugins: [],
  });
  const ran: string[] = [];
  const aborted: string[] = [];
  // `a` (tried first: highest priority) hangs until aborted; `b` and `c` answer after 300 ms.
  const priority: Record<string, number> = { a: 3, b: 2, c: 1 };
  for (const name of ['a', 'b', 'c']) {
    await manager.register(
      definePlugin({
        name,
        execute: async (_req, ctx) => {
          ran.push(name);
          try {
            await sleep(name === 'a' && aHangs ? 60_000 : 300, undefined, { signal: ctx.signal });
          } catch (error) {
            aborted.push(name);
            throw error;
          }
          return name;
        },
      }),
      { group: 'g', priority: priority[name] },
    );
  }
  return { manager, ran, aborted };
}

test('hedges go to members not tried yet, and the losers are aborted', async () => {
  const { manager, ran, aborted } = await slowGroup({ delay: 10, maxHedges: 2 });
  const winner = await manager.execute('g', {});
  assert.equal(ran[0], 'a');
  assert.equal(ran.length, 3, 'the first attempt and two hedges');
  assert.equal(new Set(ran).size, 3, `a member got two attempts: ${ran.join()}`);
  assert.notEqual(winner, 'a');
  await sleep(10);
  assert.deepEqual(
    [...aborted].sort(),
    ran.filter((name) => name !== winner).sort(),
    'every loser was aborted',
  );
});

test('hedges never exceed the retry budget', async () => {
  // Each call deposits half a token, no floor: the first call cannot hedge, the second once.
  const { manager, ran } = await slowGroup({ delay: 5, maxHedges: 2 }, 0.5, 0, false);
  await manager.execute('g', {});
  assert.equal(ran.length, 1, 'no token, no hedge');
  ran.length = 0;
  await manager.execute('g', {});
  assert.equal(ran.length, 2, 'one token, one hedge (of two allowed)');
});

test('a group without hedging never hedges, even for idempotent calls', async () => {
  const manager = new Manager<unknown, string>({ builtinTransports: false });
  managers.push(manager);
  const ran: string[] = [];
  for (const name of ['a', 'b']) {
    await manager.register(
      definePlugin({
        name,
        execute: async () => {
          ran.push(name);
          await sleep(30);
          return name;
        },
      }),
      { group: 'plain', idempotent: true },
    );
  }
  await manager.execute('plain', {}, { idempotent: true });
  assert.equal(ran.length, 1);
});
