import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { runLeaseElection } from '../../src/leadership/lease-elector.js';
import { LeaseServer } from '../helpers/lease-server.js';
import { VirtualTime } from '../helpers/virtual-time.js';

interface Term {
  readonly who: string;
  readonly from: number;
  to?: number;
}

function replica(identity: string, server: LeaseServer, time: VirtualTime, terms: Term[], opts: { stuck?: boolean } = {}) {
  const stop = new AbortController();
  const state = { stuckCalled: false, holders: [] as (string | undefined)[] };
  const done = runLeaseElection(
    {
      identity,
      lock: server.lockFor(identity),
      clock: { now: () => time.now },
      timers: time.timers,
      log: pino({ level: 'silent' }),
      onHolder: (h) => state.holders.push(h),
      onStuck: () => (state.stuckCalled = true),
    },
    (term) => {
      const t: Term = { who: identity, from: time.now };
      terms.push(t);
      // Work that stops when told (or, stuck, never does).
      return new Promise<void>((resolve) => {
        if (!opts.stuck)
          term.addEventListener('abort', () => {
            t.to = time.now;
            resolve();
          });
      });
    },
    stop.signal,
  );
  return { stop: () => stop.abort(), done, state };
}

/** No two terms overlap: whoever acts, acts alone. */
function assertOneAtATime(terms: readonly Term[]): void {
  const sorted = [...terms].sort((a, b) => a.from - b.from);
  for (let i = 1; i < sorted.length; i++) assert.ok((sorted[i - 1]?.to ?? Infinity) <= (sorted[i]?.from ?? 0), `terms overlap: ${JSON.stringify(sorted)}`);
}

/** Two replicas of one Lease, `a` started first. */
async function twoReplicas() {
  const time = new VirtualTime();
  const server = new LeaseServer();
  const terms: Term[] = [];
  const a = replica('a', server, time, terms);
  await time.advance(100);
  const b = replica('b', server, time, terms);
  return { time, server, terms, a, b };
}

async function stopAll(time: VirtualTime, ...replicas: ReturnType<typeof replica>[]): Promise<void> {
  for (const r of replicas) r.stop();
  await time.advance(20_000);
  await Promise.all(replicas.map((r) => r.done));
}

describe('runLeaseElection', () => {
  it('two replicas: one leads and keeps leading; the other never acts', async () => {
    const { time, server, terms, a, b } = await twoReplicas();
    await time.advance(120_000);
    assert.deepEqual(terms.map((t) => t.who), ['a']);
    assert.equal(server.record?.holderIdentity, 'a');
    assert.deepEqual(b.state.holders, ['a']);
    await stopAll(time, a, b);
  });

  it('a leader cut off from the API server stops acting before the other replica starts', async () => {
    const { time, server, terms, a, b } = await twoReplicas();
    await time.advance(30_000);
    server.cutOff.add('a');
    await time.advance(60_000);
    assert.deepEqual(terms.map((t) => t.who), ['a', 'b']);
    assertOneAtATime(terms);
    assert.equal(server.record?.holderIdentity, 'b');
    assert.equal(server.record?.leaseTransitions, 1);
    // Back on the network, the old leader waits: the lease is b's.
    server.cutOff.delete('a');
    await time.advance(60_000);
    assert.deepEqual(terms.map((t) => t.who), ['a', 'b']);
    await stopAll(time, a, b);
  });

  it('a leader that stops (SIGTERM) releases the lease, and the standby takes over well within a lease duration', async () => {
    const { time, server, terms, a, b } = await twoReplicas();
    await time.advance(10_000);
    a.stop();
    await time.advance(100);
    await a.done;
    assert.equal(server.record?.holderIdentity, '');
    const releasedAt = time.now;
    await time.advance(15_000);
    const bTerm = terms.find((t) => t.who === 'b');
    assert.ok(bTerm, 'b took over');
    assert.ok(bTerm.from - releasedAt <= 2_500, `b waited ${bTerm.from - releasedAt} ms after the release`);
    assertOneAtATime(terms);
    b.stop();
    await time.advance(20_000);
    await b.done;
  });

  it('work that does not stop within lease − renew deadline after the lease is lost makes the process exit', async () => {
    const time = new VirtualTime();
    const server = new LeaseServer();
    const a = replica('a', server, time, [], { stuck: true });
    await time.advance(5_000);
    server.cutOff.add('a');
    await time.advance(30_000);
    assert.equal(a.state.stuckCalled, true);
    await a.done;
  });
});
