import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { TermWork } from '../../src/runtime/leadership.js';
import { startLeaseLeadership } from '../../src/runtime/lease-leadership.js';
import { LeaseServer } from '../helpers/lease-server.js';
import { VirtualTime } from '../helpers/virtual-time.js';

const LEASE_MS = 15_000;
const RENEW_DEADLINE_MS = 10_000;
const RETRY_MS = 2_000;

/** One term of a work, in virtual ms: when it started, when its signal aborted, when it had stopped. */
interface Term {
  readonly signal: AbortSignal;
  readonly from: number;
  abortedAt?: number;
  stoppedAt?: number;
}

/** How a work stops once told: after `stopMs` of virtual time, or never. */
type Stopping = { readonly stopMs: number } | 'never';

/** A work that records its terms; its stop takes `stopping`. */
function recordedWork(time: VirtualTime, stopping: Stopping = { stopMs: 0 }) {
  const terms: Term[] = [];
  const work: TermWork = async (signal) => {
    const term: Term = { signal, from: time.now };
    terms.push(term);
    signal.addEventListener('abort', () => (term.abortedAt = time.now), { once: true });
    return () =>
      new Promise<void>((resolve) => {
        if (stopping === 'never') return;
        time.timers.setTimeout(() => {
          term.stoppedAt = time.now;
          resolve();
        }, stopping.stopMs);
      });
  };
  /** The term running now, if any. */
  const current = (): Term | undefined => terms.find((t) => t.abortedAt === undefined);
  return { work, terms, current };
}

function replica(identity: string, server: LeaseServer, time: VirtualTime) {
  const state = { leading: [] as boolean[], stuck: 0 };
  const lease = startLeaseLeadership(
    {
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_MS,
      lock: server.lockFor(identity),
      clock: { now: () => time.now },
      timers: time.timers,
      log: pino({ level: 'silent' }),
      onStuck: () => state.stuck++,
    },
    (leading) => state.leading.push(leading),
  );
  /** Closes, letting virtual time run so that the term's work can stop. */
  const close = async (): Promise<void> => {
    const closed = lease.close();
    await time.advance(LEASE_MS);
    await closed;
  };
  return { leadership: lease.leadership, state, close, closeNow: () => lease.close() };
}

/** Advances in retry periods until `until` holds (at most `maxMs`), so the time it became true is known to a retry period. */
/** Replica a leads (its work stopping as told), b stands by with its own work: the Lease well settled. */
async function leaderAndStandby(stopping: Stopping) {
  const time = new VirtualTime();
  const server = new LeaseServer();
  const a = replica('a', server, time);
  const aw = recordedWork(time, stopping);
  await a.leadership.run(aw.work);
  await time.advance(100);
  const b = replica('b', server, time);
  const bw = recordedWork(time);
  await b.leadership.run(bw.work);
  await time.advance(20_000);
  return { time, server, a, aw, b, bw };
}

async function advanceUntil(time: VirtualTime, until: () => boolean, maxMs = 60_000): Promise<void> {
  for (let waited = 0; !until() && waited < maxMs; waited += 100) await time.advance(100);
  assert.ok(until(), `not reached within ${maxMs} ms of virtual time`);
}

describe('startLeaseLeadership', () => {
  it('runs the work only on the replica that holds the Lease, and onLeading says so', async () => {
    const time = new VirtualTime();
    const server = new LeaseServer();
    const a = replica('a', server, time);
    const aw = recordedWork(time);
    await a.leadership.run(aw.work);
    await time.advance(100);
    const b = replica('b', server, time);
    const bw = recordedWork(time);
    await b.leadership.run(bw.work);
    await time.advance(60_000);

    assert.equal(server.record?.holderIdentity, 'a');
    assert.equal(aw.terms.length, 1);
    assert.equal(aw.current()?.signal.aborted, false);
    assert.deepEqual(a.state.leading, [true]);
    assert.equal(bw.terms.length, 0);
    assert.deepEqual(b.state.leading, []);
    await a.close();
    await b.close();
  });

  it('a work handed over during a term starts at once; its own stop ends it without ending the term', async () => {
    const time = new VirtualTime();
    const server = new LeaseServer();
    const a = replica('a', server, time);
    await time.advance(100);
    assert.deepEqual(a.state.leading, [true]);
    const first = recordedWork(time);
    const second = recordedWork(time);
    await a.leadership.run(first.work);
    const stopSecond = await a.leadership.run(second.work);
    await time.advance(10);
    assert.equal(first.terms.length, 1);
    assert.equal(second.terms.length, 1);

    const stopped = stopSecond();
    await time.advance(10);
    await stopped;
    assert.ok(second.terms[0]?.stoppedAt !== undefined, 'the stopped work has stopped');
    assert.equal(first.current()?.signal.aborted, false, 'the other work still runs');
    assert.deepEqual(a.state.leading, [true]);
    await a.close();
    assert.equal(second.terms.length, 1, 'a stopped work does not run again');
  });

  it("losing the Lease aborts the term's signal at the next renewal, and onLeading turns false then", async () => {
    const time = new VirtualTime();
    const server = new LeaseServer();
    const a = replica('a', server, time);
    const w = recordedWork(time);
    await a.leadership.run(w.work);
    await time.advance(30_000);
    const term = w.current();
    assert.ok(term);

    const takenAt = time.now;
    server.takeFor('x', takenAt, LEASE_MS);
    await advanceUntil(time, () => term.signal.aborted);
    assert.ok(term.abortedAt !== undefined && term.abortedAt - takenAt <= RETRY_MS, `aborted ${(term.abortedAt ?? 0) - takenAt} ms after the Lease was taken`);
    assert.deepEqual(a.state.leading, [true, false]);
    await time.advance(10);
    assert.equal(term.stoppedAt, term.abortedAt);
    assert.equal(a.state.stuck, 0);
    await a.close();
  });

  it('a leader cut off from the API server stops its work before the other replica starts it', async () => {
    const { time, server, a, aw, b, bw } = await leaderAndStandby({ stopMs: 1_000 });

    server.cutOff.add('a');
    await time.advance(60_000);
    const aTerm = aw.terms[0];
    const bTerm = bw.terms[0];
    assert.ok(aTerm?.stoppedAt !== undefined && bTerm, 'a stopped and b took over');
    assert.ok(aTerm.stoppedAt <= bTerm.from, `a stopped at ${aTerm.stoppedAt}, b started at ${bTerm.from}`);
    assert.deepEqual(a.state.leading, [true, false]);
    assert.deepEqual(b.state.leading, [true]);
    assert.equal(server.record?.holderIdentity, 'b');
    assert.equal(a.state.stuck, 0);
    server.cutOff.delete('a');
    await a.close();
    await b.close();
  });

  it('work that ignores the abort makes onStuck fire lease − renew deadline after the loss, not before', async () => {
    const time = new VirtualTime();
    const server = new LeaseServer();
    const a = replica('a', server, time);
    const w = recordedWork(time, 'never');
    await a.leadership.run(w.work);
    await time.advance(10_000);
    const term = w.current();
    assert.ok(term);

    server.takeFor('x', time.now, LEASE_MS);
    await advanceUntil(time, () => term.signal.aborted);
    const abortedAt = term.abortedAt ?? 0;
    await time.advance(abortedAt + LEASE_MS - RENEW_DEADLINE_MS - 1 - time.now);
    assert.equal(a.state.stuck, 0, 'not stuck yet');
    await time.advance(1);
    assert.equal(a.state.stuck, 1);
    // The elector has given up (the process exits): it never leads again.
    await time.advance(60_000);
    assert.equal(w.terms.length, 1);
    assert.deepEqual(a.state.leading, [true, false]);
  });

  it('work that stops within lease − renew deadline does not trigger onStuck', async () => {
    const time = new VirtualTime();
    const server = new LeaseServer();
    const a = replica('a', server, time);
    const w = recordedWork(time, { stopMs: LEASE_MS - RENEW_DEADLINE_MS - 1 });
    await a.leadership.run(w.work);
    await time.advance(10_000);
    const term = w.current();
    assert.ok(term);

    server.takeFor('x', time.now, LEASE_MS);
    await time.advance(60_000);
    assert.ok(term.stoppedAt !== undefined);
    assert.equal(a.state.stuck, 0);
    await a.close();
  });

  it('a new term after re-acquiring the Lease runs the work again with a fresh signal', async () => {
    const time = new VirtualTime();
    const server = new LeaseServer();
    const a = replica('a', server, time);
    const w = recordedWork(time);
    await a.leadership.run(w.work);
    await time.advance(10_000);

    // x takes the Lease and then goes silent: after a lease duration unchanged, a takes it back.
    server.takeFor('x', time.now, LEASE_MS);
    await advanceUntil(time, () => w.terms.length === 2);
    const [first, second] = w.terms;
    assert.ok(first && second);
    assert.equal(first.signal.aborted, true);
    assert.ok(first.stoppedAt !== undefined && first.stoppedAt <= second.from);
    assert.notEqual(second.signal, first.signal);
    assert.equal(second.signal.aborted, false);
    assert.deepEqual(a.state.leading, [true, false, true]);
    assert.equal(server.record?.holderIdentity, 'a');
    assert.equal(server.record?.leaseTransitions, 2);
    await a.close();
  });

  it('close stops the work, then releases the Lease so that the standby takes over within a retry period', async () => {
    const { time, server, a, aw, b, bw } = await leaderAndStandby({ stopMs: 500 });

    const closed = a.closeNow();
    await advanceUntil(time, () => server.record?.holderIdentity === '');
    const releasedAt = time.now;
    const aTerm = aw.terms[0];
    assert.ok(aTerm?.stoppedAt !== undefined, 'the work stopped before the release');
    assert.deepEqual(a.state.leading, [true, false]);
    await closed;

    await advanceUntil(time, () => bw.terms.length === 1);
    assert.ok((bw.terms[0]?.from ?? Infinity) - releasedAt <= RETRY_MS * 1.2 + 100, 'b took over within a (jittered) retry period');
    assert.deepEqual(b.state.leading, [true]);
    await b.close();
    assert.equal(server.record?.holderIdentity, '');
    assert.deepEqual(b.state.leading, [true, false]);
  });
});
