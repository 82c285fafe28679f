import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attempt, isLeader, microTime, observe, released, type ElectionConfig, type ElectorMemory, type LeaseRecord } from '../../src/leadership/core/lease-election.js';

/** A Lease as the API server keeps it: one record and a version that every write must name. */
class LeaseStore {
  record: LeaseRecord | undefined;
  version = 0;
  read(): { record: LeaseRecord | undefined; version: number } {
    return { record: this.record, version: this.version };
  }
  write(record: LeaseRecord, expected: number): boolean {
    if (expected !== this.version) return false;
    this.record = record;
    this.version++;
    return true;
  }
}

/** A replica: its own clock (offset from true time), its memory, and one tryAcquireOrRenew. */
class Replica {
  memory: ElectorMemory = {};
  constructor(
    readonly config: ElectionConfig,
    readonly store: LeaseStore,
    readonly clockOffsetMs: number,
  ) {}
  try(trueNow: number): boolean {
    const now = trueNow + this.clockOffsetMs;
    const { record, version } = this.store.read();
    const a = attempt(this.memory, record, now, this.config);
    if (a.kind === 'held') {
      this.memory = a.memory;
      return false;
    }
    if (this.store.write(a.record, version)) {
      this.memory = a.memory;
      return true;
    }
    this.memory = record ? observe(this.memory, record, now) : this.memory;
    return false;
  }
}

const A: ElectionConfig = { identity: 'meridian-0-x1', leaseDurationSeconds: 15 };
const B: ElectionConfig = { identity: 'meridian-1-y2', leaseDurationSeconds: 15 };

describe('lease election (client-go semantics)', () => {
  it('creates the Lease when there is none, then renews it keeping acquireTime and transitions', () => {
    const store = new LeaseStore();
    const a = new Replica(A, store, 0);
    assert.equal(a.try(1_000), true);
    const first = store.record;
    assert.equal(first?.holderIdentity, A.identity);
    assert.equal(first?.leaseTransitions, 0);
    assert.equal(a.try(3_000), true);
    assert.equal(store.record?.acquireTime, first?.acquireTime);
    assert.equal(store.record?.renewTime, microTime(3_000));
    assert.equal(store.record?.leaseTransitions, 0);
    assert.equal(isLeader(a.memory, A), true);
  });

  it('a standby whose clock is an hour ahead still waits while the leader renews', () => {
    const store = new LeaseStore();
    const a = new Replica(A, store, 0);
    const b = new Replica(B, store, 3_600_000);
    a.try(0);
    for (let t = 2_000; t <= 120_000; t += 2_000) {
      assert.equal(a.try(t), true, `leader renews at ${t}`);
      assert.equal(b.try(t + 1_000), false, `standby waits at ${t + 1_000}`);
    }
    assert.equal(store.record?.holderIdentity, A.identity);
  });

  it('takes over only after a full lease of silence on its own clock, counting one transition', () => {
    const store = new LeaseStore();
    const a = new Replica(A, store, 0);
    // Behind by ten minutes: the leader's renewTime looks far in its future; only silence counts.
    const b = new Replica(B, store, -600_000);
    a.try(0);
    a.try(2_000);
    // The leader goes silent after 2 s. The standby first sees this record at 3 s.
    let tookOver: number | undefined;
    for (let t = 3_000; t <= 30_000 && tookOver === undefined; t += 1_000) if (b.try(t)) tookOver = t;
    assert.equal(tookOver, 3_000 + 15_000, 'the first attempt once 15 s of an unchanged record have passed');
    assert.equal(store.record?.holderIdentity, B.identity);
    assert.equal(store.record?.leaseTransitions, 1);
    assert.equal(store.record?.acquireTime, microTime(tookOver - 600_000));
    // The old leader, back, finds the lease held and valid.
    assert.equal(a.try(tookOver + 500), false);
    assert.equal(isLeader(a.memory, A), false);
  });

  it('of two standbys racing for an expired lease, exactly one wins (the write names the version read)', () => {
    const store = new LeaseStore();
    const b = new Replica(B, store, 0);
    const c = new Replica({ identity: 'meridian-2-z3', leaseDurationSeconds: 15 }, store, 0);
    store.write({ holderIdentity: 'gone', leaseDurationSeconds: 15, renewTime: microTime(0), acquireTime: microTime(0), leaseTransitions: 4 }, 0);
    b.try(1_000);
    c.try(1_000);
    const { record, version } = store.read();
    const ab = attempt(b.memory, record, 17_000, B);
    const ac = attempt(c.memory, record, 17_000, c.config);
    assert.equal(ab.kind, 'update');
    assert.equal(ac.kind, 'update');
    assert.equal(store.write(ab.record, version), true);
    assert.equal(store.write(ac.record, version), false);
    assert.equal(store.record?.holderIdentity, B.identity);
    assert.equal(store.record?.leaseTransitions, 5);
  });

  it('a released lease is taken at once by a standby', () => {
    const store = new LeaseStore();
    const a = new Replica(A, store, 0);
    const b = new Replica(B, store, 0);
    a.try(0);
    assert.equal(b.try(1_000), false);
    assert.equal(store.write(released(a.memory, 2_000), store.version), true);
    assert.equal(store.record?.holderIdentity, '');
    assert.equal(b.try(2_100), true);
    assert.equal(store.record?.leaseTransitions, 1);
  });

  it('writes MicroTime with exactly six fraction digits', () => {
    assert.equal(microTime(Date.UTC(2026, 11, 6, 10, 0, 0, 123)), '2026-12-06T10:00:00.123000Z');
    assert.match(microTime(0), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });
});
