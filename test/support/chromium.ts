/**
 * Debian's headless Chromium, driven over the Chrome DevTools Protocol on a pipe
 * (`--remote-debugging-pipe`: NUL-terminated JSON on fds 3 and 4). No debugging port is opened,
 * no browser is downloaded and no client library is needed: the few commands the tests use
 * (navigate, evaluate, screenshot, viewport) have been stable in CDP for years.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './tmp.js';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** One page (tab) of a headless Chromium. */
export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = '';
  private sessionId: string | undefined;
  private readonly stderr: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly remove: () => void,
  ) {
    const output = child.stdio[4] as Readable;
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.receive(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => this.stderr.push(chunk));
    child.once('exit', () => {
      for (const p of this.pending.values()) {
        p.reject(new Error(`chromium exited: ${this.stderr.join('').slice(-2000)}`));
      }
      this.pending.clear();
    });
  }

  /** Starts Chromium with a fresh profile in a temp dir and opens one blank page. */
  static async launch(): Promise<Browser> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
    }
    const profile = tempDir('plugwire-chromium-');
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--hide-scrollbars',
        `--user-data-dir=${profile.dir}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    const browser = new Browser(child, profile.remove);
    try {
      const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await browser.send('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      browser.sessionId = sessionId as string;
      await browser.send('Page.enable');
      await browser.send('Runtime.enable');
    } catch (error) {
      await browser.close();
      throw error;
    }
    return browser;
  }

  /** Sends one CDP command (to the page once attached) and resolves with its result. */
  send(method: string, params: object = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const message = {
      id,
      method,
      params,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
    };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) !== -1) {
      const message = JSON.parse(this.buffer.slice(0, end)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      this.buffer = this.buffer.slice(end + 1);
      if (message.id === undefined) continue; // an event
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) pending?.reject(new Error(`CDP: ${message.error.message}`));
      else pending?.resolve(message.result ?? {});
    }
  }

  /** Loads `url` and waits for its load event. */
  async goto(url: string): Promise<void> {
    const { errorText } = await this.send('Page.navigate', { url });
    if (errorText) throw new Error(`navigation to ${url} failed: ${String(errorText)}`);
    await this.waitFor('document.readyState === "complete"');
  }

  /** Evaluates `expression` in the page (promises awaited) and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = (await this.send('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    })) as { result: { value?: T }; exceptionDetails?: { text: string; exception?: object } };
    if (reply.exceptionDetails) {
      throw new Error(`page threw: ${JSON.stringify(reply.exceptionDetails)}`);
    }
    return reply.result.value as T;
  }

  /** Polls `expression` until it is truthy (within `timeoutMs`), then returns its value. */
  async waitFor<T>(expression: string, timeoutMs = 15_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate<T>(expression);
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for: ${expression}`);
      await sleep(50);
    }
  }

  /** Presses a key (`Tab`, `Enter`, ` `) as a keyboard would, to the focused element. */
  async press(key: 'Tab' | 'Enter' | ' '): Promise<void> {
    const codes = { Tab: 9, Enter: 13, ' ': 32 } as const;
    const base = {
      key,
      code: key === ' ' ? 'Space' : key,
      windowsVirtualKeyCode: codes[key],
      ...(key === 'Tab' ? {} : { text: key === 'Enter' ? '\r' : ' ' }),
    };
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', ...base });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', ...base });
  }

  /** Sets the viewport (CSS pixels); `mobile` also makes it a touch phone screen. */
  async viewport(width: number, height: number, mobile = false): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', {
      width,
      height,
      deviceScaleFactor: 1,
      mobile,
    });
  }

  /** A PNG of the whole page. */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.send('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
    });
    return Buffer.from(data as string, 'base64');
  }

  /** Closes the browser (and its child processes) and removes the profile. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.sessionId = undefined; // Browser.close goes to the browser, not the page
      try {
        await Promise.race([this.send('Browser.close'), sleep(2000)]);
      } catch {
        // exiting
      }
      await Promise.race([exited, sleep(3000)]);
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill('SIGKILL');
        await exited;
      }
    }
    this.remove();
  }
}
