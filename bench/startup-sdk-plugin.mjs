// The SDK twin of test/fixtures/health-plugin.mjs for bench/startup.ts (BENCH_PLUGIN=sdk): a
// serveStdio plugin from the built package whose handshake comes START_MS after the process
// started (its own start-up work, simulated). BENCH_SDK_ENTRY: another build's sdk/index.js
// (an absolute path), to compare builds.
const started = performance.timeOrigin;
const { serveStdio } = await import(process.env.BENCH_SDK_ENTRY ?? '../dist/sdk/index.js');
const startMs = Number(process.env.START_MS ?? 0);
await new Promise((resolve) =>
  setTimeout(
    resolve,
    Math.max(0, started + startMs - (performance.timeOrigin + performance.now())),
  ),
);
await serveStdio(() => 'ok', { info: { name: 'sdk-startup-plugin', version: '1.0.0' } });
