import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveAdmin, type AdminServer, type Manager } from '../../src/index.js';
import { Browser } from '../support/chromium.js';
import { tempDir } from '../support/tmp.js';
import { LEAKY_PASSWORD, threePlugins, traffic } from './fixture.js';

// Screenshots go to a temp dir, or to STATUS_SCREENSHOTS (`npm run docs:screenshots` sets docs/).
const shots = process.env.STATUS_SCREENSHOTS ? undefined : tempDir('plugwire-shots-');
const SHOT_DIR = process.env.STATUS_SCREENSHOTS ?? shots!.dir;
const TOKEN = 'test-token-0123456789abcdef';

let manager: Manager;
let admin: AdminServer;
let browser: Browser;

before(async () => {
  manager = await threePlugins();
  admin = await serveAdmin({
    manager,
    port: 0,
    status: { refreshMs: 250, actions: { token: TOKEN } },
  });
  browser = await Browser.launch();
});

after(async () => {
  await browser?.close();
  await admin?.close();
  await manager?.shutdown({ timeoutMs: 100 });
  shots?.remove();
});

/** The visible text of each cell of a row, by column header. */
function row(kind: 'plugin' | 'group', name: string): Promise<Record<string, string>> {
  return browser.evaluate(`(() => {
    const tr = document.querySelector('tr[data-${kind}="${name}"]');
    if (!tr) return null;
    const heads = [...tr.closest('table').querySelectorAll('thead th')].map((th) => th.textContent);
    return Object.fromEntries([...tr.children].map((cell, i) => [heads[i], cell.innerText.trim()]));
  })()`);
}

function savePng(name: string, png: Buffer): string {
  mkdirSync(SHOT_DIR, { recursive: true });
  const path = join(SHOT_DIR, name);
  writeFileSync(path, png);
  return path;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('status page in headless Chromium', () => {
  test('shows a healthy, a failing and an open-breaker plugin, live, without secrets', async () => {
    await browser.viewport(1280, 720);
    await browser.goto(`${admin.url}/status`);
    await browser.waitFor(`document.querySelectorAll('#plugins-body tr').length === 3`);
    assert.equal((await row('plugin', 'vault'))['Breaker'], 'closed');

    // Calls after the page is open: the next updates must show them.
    await traffic(manager, 6);
    await browser.waitFor(`(() => {
      const tr = document.querySelector('tr[data-plugin="vault"]');
      return tr && tr.children[4].textContent === 'open' &&
        document.querySelector('tr[data-plugin="mailer"]').children[7].textContent === '100.0%';
    })()`);

    const ledger = await row('plugin', 'ledger');
    assert.equal(ledger['Group'], 'payments');
    assert.equal(ledger['State'], 'ready');
    assert.equal(ledger['Health'], 'healthy');
    assert.equal(ledger['Breaker'], 'closed');
    assert.equal(ledger['Errors'], '0.0%');
    assert.equal(ledger['Last error'], '–');
    assert.ok(Number(ledger['Calls/s']) > 0, `calls/s: ${ledger['Calls/s']}`);
    assert.match(ledger['p50']!, /^\d+(\.\d+)? ms$/);

    const mailer = await row('plugin', 'mailer');
    assert.equal(mailer['Health'], 'degraded');
    assert.equal(mailer['Breaker'], 'closed');
    assert.equal(mailer['Errors'], '100.0%');
    assert.match(mailer['Last error']!, /smtp relay refused login password=\[REDACTED\]/);
    assert.match(mailer['Last error']!, /PLUGIN_\d+ ×6/);

    const vault = await row('plugin', 'vault');
    assert.equal(vault['Breaker'], 'open');
    assert.equal(
      await browser.evaluate(
        `document.querySelector('tr[data-plugin="vault"]').children[4].className`,
      ),
      'badge bad',
    );
    assert.match(vault['Last error']!, /CIRCUIT_1401 ×5/);

    const payments = await row('group', 'payments');
    assert.equal(payments['Members'], 'ledger, mailer');
    assert.equal(payments['Available'], '2 of 2');
    assert.equal(payments['Errors'], '50.0%');

    const html = await browser.evaluate<string>('document.documentElement.outerHTML');
    assert.ok(!html.includes(LEAKY_PASSWORD), 'the page shows a secret');
    assert.equal(await browser.evaluate('document.getElementById("ready").textContent'), 'Ready');

    const desktop = await browser.screenshot();
    assert.equal(pngSize(desktop).width, 1280);
    savePng('status-page.png', desktop);
  });

  test('is usable with the keyboard alone: Tab reaches every control, Space presses', async () => {
    const focused = (): Promise<string> =>
      browser.evaluate(
        `(() => { const e = document.activeElement; return e.getAttribute('aria-label') || e.id || e.textContent.trim(); })()`,
      );
    await browser.evaluate('document.activeElement.blur()');
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await browser.press('Tab');
      order.push(await focused());
    }
    assert.deepEqual(order, [
      'Skip to plugins',
      'pause',
      'token',
      'Set',
      'Disable ledger',
      'Disable mailer',
      'Disable vault',
    ]);
    // Updates rebuild the rows; the focused button keeps the focus across them.
    const generated = await browser.evaluate<string>(`document.body.dataset.generated`);
    await browser.waitFor(`document.body.dataset.generated !== ${JSON.stringify(generated)}`);
    assert.equal(await focused(), 'Disable vault');
    // "Pause updates" pressed with Space: updates stop, and the button says so.
    await browser.evaluate(`document.getElementById('pause').focus()`);
    await browser.press(' ');
    assert.equal(
      await browser.evaluate(`document.getElementById('pause').getAttribute('aria-pressed')`),
      'true',
    );
    const frozen = await browser.evaluate<string>(`document.body.dataset.generated`);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(await browser.evaluate(`document.body.dataset.generated`), frozen);
    await browser.press(' ');
    await browser.waitFor(`document.body.dataset.generated !== ${JSON.stringify(frozen)}`);
  });

  test('an operator with the token disables a plugin from the page; the row updates', async () => {
    await browser.evaluate(`(() => {
      document.getElementById('token').value = ${JSON.stringify(TOKEN)};
      document.querySelector('#token-form button[type=submit]').click();
      document.querySelector('button[aria-label="Disable ledger"]').click();
    })()`);
    await browser.waitFor(
      `document.querySelector('tr[data-plugin="ledger"]').children[2].textContent === 'disabled'`,
    );
    assert.equal(manager.plugins().find((p) => p.name === 'ledger')!.enabled, false);
    assert.match(
      await browser.evaluate<string>('document.getElementById("action-result").textContent'),
      /Done: ledger disabled/,
    );
    assert.equal((await row('group', 'payments'))['Available'], '1 of 2');
  });

  test('on a phone-sized screen the rows become labelled cards', async () => {
    await browser.viewport(390, 844, true);
    await browser.goto(`${admin.url}/status`);
    await browser.waitFor(`document.querySelectorAll('#plugins-body tr').length === 3`);
    const layout = await browser.evaluate<{ tableWidth: number; display: string; label: string }>(
      `(() => {
        const cell = document.querySelector('tr[data-plugin="vault"] td');
        return {
          tableWidth: document.querySelector('#plugins table').getBoundingClientRect().width,
          display: getComputedStyle(cell).display,
          label: getComputedStyle(cell, '::before').content,
        };
      })()`,
    );
    assert.ok(layout.tableWidth <= 390, `table is ${layout.tableWidth}px wide`);
    assert.equal(layout.display, 'flex');
    assert.equal(layout.label, '"Group"');
    const phone = await browser.screenshot();
    assert.equal(pngSize(phone).width, 390);
    savePng('status-page-phone.png', phone);
  });
});
