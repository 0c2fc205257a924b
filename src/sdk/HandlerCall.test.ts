import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandlerCall, laneOf } from './HandlerCall.js';

const incoming = (timeoutMs: number | undefined) => ({
  requestId: 'r1',
  headers: {},
  metadata: {},
  timeoutMs,
});

test('the lane of a timeout is never shorter and at most 1/64 longer (1 ms up to 64 ms)', () => {
  for (const timeout of [1, 2.5, 17, 64, 65, 100, 999, 1_000, 4_097, 29_999, 30_000, 86_400_000]) {
    const lane = laneOf(timeout);
    assert.ok(lane >= timeout, `${timeout} -> ${lane}`);
    assert.ok(lane - timeout <= Math.max(1, timeout / 64), `${timeout} -> ${lane}`);
  }
  // Nearby timeouts share a lane (one timer), as the host's time-left values do.
  assert.equal(laneOf(29_990), laneOf(29_999));
});

test("the deadline aborts the handler's signal, read before or after it passed", async () => {
  const before = Date.now();
  const early = new HandlerCall(incoming(20));
  const signal = early.signal;
  const late = new HandlerCall(incoming(20));
  assert.ok(early.deadline! >= before + 19, 'the deadline is the time left from now');
  const aborted = new Promise((resolve) => signal.addEventListener('abort', resolve));
  await aborted;
  assert.match(String(signal.reason), /deadline exceeded/);
  // late's own lane fires a little after early's (later on a loaded machine): wait for it.
  const waitUntil = Date.now() + 5_000;
  while (!late.aborted && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 5));
  assert.equal(late.aborted, true, "late's deadline aborted it");
  assert.equal(late.signal.aborted, true, 'a signal first read after the deadline is aborted');
});

test('abort() fires the signal once, with its reason, whenever the signal is read', () => {
  const read = new HandlerCall(incoming(30_000));
  const signal = read.signal;
  read.abort(new Error('cancelled'));
  read.abort(new Error('again'));
  assert.equal(signal.aborted, true);
  assert.match(String(signal.reason), /cancelled/);
  read.finish();

  const unread = new HandlerCall(incoming(undefined));
  assert.equal(unread.deadline, undefined);
  unread.abort(new Error('gone'));
  assert.match(String(unread.signal.reason), /gone/);
});

test('a finished call is no longer watched: its signal never fires', async () => {
  const call = new HandlerCall(incoming(10));
  const signal = call.signal;
  call.finish();
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(signal.aborted, false);
});
