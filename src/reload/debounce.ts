/**
 * Runs `run` once events have been quiet for `debounceMs`, and at least every `5 × debounceMs`
 * under a steady stream of them. Runs never overlap: events during a run lead to one more run
 * after it. Timers are unref'd. Shared by the config file watcher and plugin discovery.
 */
export class Debouncer {
  private readonly maxWaitMs: number;
  private timer: NodeJS.Timeout | undefined;
  private pendingSince = 0;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly debounceMs: number,
    private readonly run: () => Promise<void>,
  ) {
    this.maxWaitMs = Math.max(debounceMs * 5, 1);
  }

  schedule(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (this.timer !== undefined) {
      if (now - this.pendingSince >= this.maxWaitMs) return;
      clearTimeout(this.timer);
    } else {
      this.pendingSince = now;
    }
    this.timer = setTimeout(() => void this.fire(), this.debounceMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.run();
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }
}
