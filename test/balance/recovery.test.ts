// Recovery of latency-aware balancing (issue #13): a member that was slow for a while and is fast
// again wins back its share within a bounded number of calls, over real HTTP servers.
import assert from 'node:assert/strict';

import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager } from '../../src/index.js';
import { loopbackHttp } from '../support/httpServers.js';

/** A test that would hang if the behaviour broke fails after this instead (not a speed check). */
const HANG_GUARD = { timeout: 60_000 };

/**
 * A go-plugins-style HTTP plugin on node:http (not plugwire's SDK): answers the execute envelope
 * after `delay()` ms and logs its name in `served`, in the order requests arrive.
 */
async function plugin(name: string, delay: () => number, served: string[]): Promise<string> {
  return loopbackHttp(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'POST') {
      served.push(name);
      const wait = delay();
      if (wait > 0) await sleep(wait);
    }
    const body = JSON.stringify({ data: { by: name }, request_id: req.headers['x-request-id'] });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
}

async function group(strategy: string, served: string[], slow: { on: boolean }) {
  const a = await plugin('a', () => (slow.on ? 80 : 0), served);
  const b = await plugin('b', () => 0, served);
  const manager = new Manager();
  await manager.load({
    groups: { api: { strategy } },
    plugins: [
      { name: 'a', group: 'api', transport: 'http', endpoint: a, healthCheck: { enabled: false } },
      { name: 'b', group: 'api', transport: 'http', endpoint: b, healthCheck: { enabled: false } },
    ],
  });
  return manager;
}

describe('a once-slow member wins back its share (real HTTP servers)', () => {
  for (const strategy of ['p2c', 'least-latency']) {
    test(
      `${strategy}: after 100 calls with 'a' slow, 'a' gets ≥ 25% of the next 800`,
      HANG_GUARD,
      async () => {
        const served: string[] = [];
        const slow = { on: true };
        const manager = await group(strategy, served, slow);
        try {
          for (let i = 0; i < 100; i++) await manager.execute('api', { i });
          const slowPhase = served.splice(0);
          const onSlow = slowPhase.filter((n) => n === 'a').length;
          // The setting of the issue: 'a' rated the worse (how much depends on the machine's load).
          assert.ok(onSlow < 50, `the slow member was avoided: ${onSlow} of 100 calls on it`);
          slow.on = false;
          for (let i = 0; i < 800; i++) await manager.execute('api', { i });
          const onA = served.filter((n) => n === 'a').length;
          // Probed within one window (64 picks for 2 members), then rated on fresh measurements.
          assert.ok(
            served.indexOf('a') <= 64,
            `'a' first tried again at call ${served.indexOf('a')}`,
          );
          assert.ok(onA >= 200, `'a' got ${onA} of 800 calls`);
        } finally {
          await manager.shutdown();
        }
      },
    );
  }
});
