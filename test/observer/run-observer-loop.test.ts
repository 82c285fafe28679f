import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../helpers/manual-clock.js';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { EMPTY_SNAPSHOT, type FleetSnapshot } from '../../src/model/snapshot.js';
import type { ScrapeOutcome } from '../../src/observer/core/scrape-outcome.js';
import { createObserver, type Observer } from '../../src/observer/observer.js';
import { runObserverLoop } from '../../src/observer/run-observer-loop.js';
import { fleet, metricsWith, proxy } from './fixtures/metrics.js';

const log = pino({ level: 'silent' });
const START = Date.UTC(2026, 0, 1);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A sleep that moves the manual clock instead of waiting, and returns at once on abort. */
const clockSleep =
  (clock: ManualClock) =>
  async (ms: number, signal: AbortSignal): Promise<void> => {
    if (signal.aborted) return;
    clock.advance(ms);
    await tick();
  };

describe('runObserverLoop', () => {
  it('runs cycles on the interval, start to start, feeding each snapshot to the next cycle', async () => {
    const clock = new ManualClock(START);
    let cycle = 0;
    const observer = createObserver({
      clock,
      concurrency: 4,
      timeoutMs: 5000,
      log,
      random: () => 0,
      scrape: async (): Promise<ScrapeOutcome> => {
        clock.advance(300); // the scrape itself takes 300 ms of the interval
        return cycle === 0 ? { ok: true, metrics: metricsWith(9), readyzStatus: 200, durationMs: 300 } : { ok: false, error: { reason: 'timeout', message: 'a: timed out' }, durationMs: 300 };
      },
    });
    const controller = new AbortController();
    const snapshots: FleetSnapshot[] = [];
    const last = await runObserverLoop({
      observer,
      intervalMs: 10_000,
      getFleet: () => ({ spec: fleet(proxy('a')) }),
      onSnapshot: (s) => {
        snapshots.push(s);
        cycle++;
        if (snapshots.length === 3) controller.abort();
      },
      signal: controller.signal,
      sleep: clockSleep(clock),
      clock,
    });

    assert.deepEqual(
      snapshots.map((s) => s.observedAt),
      [START + 300, START + 10_300, START + 20_300].map((t) => new Date(t).toISOString()),
    );
    // Cycles 2 and 3 failed, and still carry what cycle 1 learned.
    assert.deepEqual(snapshots.map((s) => [s.proxies[0]?.up, s.proxies[0]?.metrics?.sessions.ssh]), [[true, 9], [false, 9], [false, 9]]);
    assert.equal(last, snapshots[2]);
  });

  it('never overlaps cycles, even when a cycle outlasts the interval', async () => {
    const clock = new ManualClock(START);
    let running = 0;
    let maxRunning = 0;
    let cycles = 0;
    const controller = new AbortController();
    const observer: Observer = {
      async observe() {
        running++;
        maxRunning = Math.max(maxRunning, running);
        clock.advance(25_000); // longer than the interval
        await tick();
        running--;
        cycles++;
        if (cycles === 5) controller.abort();
        return { observedAt: new Date(clock.now()).toISOString(), proxies: [] };
      },
    };
    await runObserverLoop({ observer, intervalMs: 10_000, getFleet: () => ({ spec: fleet() }), onSnapshot: () => undefined, signal: controller.signal, sleep: clockSleep(clock), clock });
    assert.equal(cycles, 5);
    assert.equal(maxRunning, 1);
  });

  it('skips cycles while there is no fleet, then observes once there is one', async () => {
    const clock = new ManualClock(START);
    const controller = new AbortController();
    let asks = 0;
    const snapshots: FleetSnapshot[] = [];
    const observer = createObserver({ clock, concurrency: 1, timeoutMs: 1000, log, random: () => 0, scrape: async () => ({ ok: true, metrics: metricsWith(1), durationMs: 1 }) });
    await runObserverLoop({
      observer,
      intervalMs: 1000,
      getFleet: () => (++asks < 3 ? undefined : { spec: fleet(proxy('a')) }),
      onSnapshot: (s) => {
        snapshots.push(s);
        controller.abort();
      },
      signal: controller.signal,
      sleep: clockSleep(clock),
      clock,
    });
    assert.equal(snapshots.length, 1);
    assert.equal(snapshots[0]?.observedAt, new Date(START + 2000).toISOString());
  });

  it('stops when aborted during the wait and returns the last snapshot', async () => {
    const controller = new AbortController();
    const snapshots: FleetSnapshot[] = [];
    const observer: Observer = { observe: async () => ({ observedAt: 'cycle', proxies: [] }) };
    const last = await runObserverLoop({
      observer,
      intervalMs: 60_000,
      getFleet: () => ({ spec: fleet() }),
      onSnapshot: (s) => snapshots.push(s),
      signal: controller.signal,
      // A real-looking sleep: only an abort ends it (rejecting, as timers/promises does).
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          controller.abort();
        }),
    });
    assert.equal(snapshots.length, 1);
    assert.equal(last.observedAt, 'cycle');
  });

  it('reports a failing cycle to onError and goes on; without onError it rejects', async () => {
    const clock = new ManualClock(START);
    const controller = new AbortController();
    const errors: unknown[] = [];
    let calls = 0;
    const flaky: Observer = {
      async observe(_spec, previous) {
        calls++;
        if (calls === 1) throw new Error('bug in cycle 1');
        if (calls === 3) controller.abort();
        return { observedAt: `cycle ${calls}`, proxies: previous.proxies };
      },
    };
    const last = await runObserverLoop({
      observer: flaky,
      intervalMs: 1000,
      getFleet: () => ({ spec: fleet() }),
      onSnapshot: () => undefined,
      signal: controller.signal,
      sleep: clockSleep(clock),
      onError: (e) => errors.push(e),
    });
    assert.equal(errors.length, 1);
    assert.equal(last.observedAt, 'cycle 3');

    await assert.rejects(
      runObserverLoop({
        observer: { observe: async () => Promise.reject(new Error('bug')) },
        intervalMs: 1000,
        getFleet: () => ({ spec: fleet() }),
        onSnapshot: () => undefined,
        signal: new AbortController().signal,
        sleep: clockSleep(clock),
      }),
      /bug/,
    );
  });

  it('starts from the initial snapshot when given one', async () => {
    const controller = new AbortController();
    const initial: FleetSnapshot = { ...EMPTY_SNAPSHOT, observedAt: 'restored' };
    let seen: FleetSnapshot | undefined;
    await runObserverLoop({
      observer: {
        observe: async (_s, previous) => {
          seen = previous;
          controller.abort();
          return previous;
        },
      },
      intervalMs: 1000,
      getFleet: () => ({ spec: fleet() }),
      onSnapshot: () => undefined,
      signal: controller.signal,
      sleep: async () => undefined,
      initial,
    });
    assert.equal(seen, initial);
  });
});
