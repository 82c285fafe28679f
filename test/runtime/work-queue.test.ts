import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, type Timers } from '../../src/runtime/work-queue.js';

/** Timers that fire only when the test says so. */
function manualTimers(): Timers & { fire(): void; pending(): number[] } {
  let next = 1;
  const timers = new Map<number, { fn: () => void; ms: number }>();
  return {
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (h) => void timers.delete(h as number),
    fire() {
      const all = [...timers.values()];
      timers.clear();
      for (const t of all) t.fn();
    },
    pending: () => [...timers.values()].map((t) => t.ms),
  };
}

const key = (name: string) => ({ kind: 'ProxyFleet', namespace: 'default', name });

test('a key is queued once however often it is added', async () => {
  const q = new WorkQueue({ baseBackoffMs: 10, maxBackoffMs: 1000, timers: manualTimers() });
  q.add(key('a'));
  q.add(key('a'));
  q.add(key('b'));
  assert.equal(q.length, 2);
  assert.deepEqual(await q.get(), key('a'));
  assert.deepEqual(await q.get(), key('b'));
});

test('a key re-added while being processed runs again after done, not concurrently', async () => {
  const q = new WorkQueue({ baseBackoffMs: 10, maxBackoffMs: 1000, timers: manualTimers() });
  q.add(key('a'));
  const k = await q.get();
  assert.ok(k);
  q.add(key('a'));
  assert.equal(q.length, 0, 'not handed out twice at once');
  q.done(k);
  assert.equal(q.length, 1);
});

test('failures back off exponentially up to the cap; forget resets', () => {
  const timers = manualTimers();
  const q = new WorkQueue({ baseBackoffMs: 100, maxBackoffMs: 500, timers });
  const delays = [1, 2, 3, 4, 5].map(() => q.addRateLimited(key('a'), 0));
  assert.deepEqual(delays, [100, 200, 400, 500, 500]);
  q.forget(key('a'));
  assert.equal(q.addRateLimited(key('a'), 0), 100);
});

test('delayed adds keep the earliest deadline and enqueue when the timer fires', () => {
  const timers = manualTimers();
  const q = new WorkQueue({ baseBackoffMs: 10, maxBackoffMs: 1000, timers });
  q.addAfter(key('a'), 5000, 0);
  q.addAfter(key('a'), 1000, 0);
  q.addAfter(key('a'), 9000, 0);
  assert.deepEqual(timers.pending(), [1000]);
  timers.fire();
  assert.equal(q.length, 1);
});

test('shutDown releases waiting getters with undefined', async () => {
  const q = new WorkQueue({ baseBackoffMs: 10, maxBackoffMs: 1000, timers: manualTimers() });
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
});

test('a wait longer than a timer holds (a window a month away) wakes at the longest delay, not at once', async () => {
  const timers = manualTimers();
  const q = new WorkQueue({ baseBackoffMs: 10, maxBackoffMs: 1000, timers });
  const month = 31 * 86_400_000;
  q.addAfter(key('monthly'), month, 0);
  // Node fires a longer setTimeout after 1 ms: the reconcile would run in a loop.
  assert.deepEqual(timers.pending(), [2 ** 31 - 1]);
  assert.equal(q.length, 0);
  // An earlier wake-up asked for meanwhile replaces it; a later one does not.
  q.addAfter(key('monthly'), 86_400_000, 1_000);
  q.addAfter(key('monthly'), month, 2_000);
  assert.deepEqual(timers.pending(), [86_400_000]);
  timers.fire();
  assert.deepEqual(await q.get(), key('monthly'));
});
