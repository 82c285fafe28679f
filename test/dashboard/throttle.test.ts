import { test } from 'node:test';
import assert from 'node:assert/strict';
import { throttle, type ThrottleTimers } from '../../src/dashboard/throttle.js';

/** Timers on a hand-moved clock. */
function manualTimers() {
  let now = 0;
  const due: { at: number; fn: () => void }[] = [];
  const timers: ThrottleTimers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      due.push(t);
      return t;
    },
    clearTimeout: (h) => void due.splice(due.indexOf(h as (typeof due)[number]), 1),
  };
  const advance = (ms: number): void => {
    const end = now + ms;
    for (const t of due.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)) {
      due.splice(due.indexOf(t), 1);
      now = t.at;
      t.fn();
    }
    now = end;
  };
  return { timers, advance, pending: () => due.length };
}

test('ten snapshots a second make one notice a second: the first at once, the last one not lost', () => {
  const { timers, advance } = manualTimers();
  const sent: number[] = [];
  const notice = throttle(1_000, () => sent.push(timers.now()), timers);
  for (let i = 0; i < 25; i++) {
    notice();
    advance(100);
  }
  // 0 at once; then one a second while they keep coming; the calls of the last half second sent at 3000.
  advance(1_000);
  assert.deepEqual(sent, [0, 1_000, 2_000, 3_000]);
});

test('a quiet spell: the next notice goes at once; cancel drops a notice waiting', () => {
  const { timers, advance, pending } = manualTimers();
  const sent: number[] = [];
  const notice = throttle(1_000, () => sent.push(timers.now()), timers);
  notice();
  advance(5_000);
  notice();
  notice();
  assert.deepEqual(sent, [0, 5_000]);
  assert.equal(pending(), 1);
  notice.cancel();
  advance(5_000);
  assert.deepEqual(sent, [0, 5_000]);
});
