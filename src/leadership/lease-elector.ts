import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { Timers } from '../runtime/work-queue.js';
import { abortableSleep } from '../runtime/abortable-sleep.js';
import { attempt, isLeader, observe, released, type ElectorMemory, type LeaseRecord } from './core/lease-election.js';

/** The Lease as the API offers it: read, create, and write naming the version read. */
export interface LeaseLock {
  get(signal: AbortSignal): Promise<{ readonly record: LeaseRecord; readonly version: string } | undefined>;
  /** 'conflict': it exists (create) or changed since `version` (update). */
  create(record: LeaseRecord, signal: AbortSignal): Promise<'ok' | 'conflict'>;
  update(record: LeaseRecord, version: string, signal: AbortSignal): Promise<'ok' | 'conflict'>;
}

export interface LeaseElectorOptions {
  readonly identity: string;
  /** Defaults as controller-runtime's: 15 s, 10 s, 2 s. */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly lock: LeaseLock;
  /** Local time only: another replica's timestamps are never compared with it. */
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  /** The holder this replica last saw (undefined: none), for `meridian_leader`. */
  readonly onHolder?: (holder: string | undefined) => void;
  /** A term's work did not stop within lease − renew deadline after the lease was lost: the process must exit. */
  readonly onStuck: () => void;
}

/** A term's work: runs until `term` aborts, resolves once every outside action has stopped. */
export type LeaderWork = (term: AbortSignal) => Promise<void>;

/**
 * client-go's LeaderElector over a Lease: try to acquire every retry period (jittered); once
 * leader, start the work with a signal of its own and renew every retry period; a renewal that
 * has not succeeded within the renew deadline, or a lease seen in another's hands, ends the term at
 * once. The work then has lease − renew deadline to stop, the time a standby still waits before it
 * may take over; past that the process exits. On `signal` (SIGTERM) a leader releases the Lease.
 */
export async function runLeaseElection(opts: LeaseElectorOptions, work: LeaderWork, signal: AbortSignal): Promise<void> {
  const leaseMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryMs = opts.retryPeriodMs ?? 2_000;
  const config = { identity: opts.identity, leaseDurationSeconds: Math.ceil(leaseMs / 1000) };
  let memory: ElectorMemory = {};
  let reported: string | undefined | null = null;
  const report = (): void => {
    const holder = memory.observed?.holderIdentity || undefined;
    if (holder !== reported) opts.onHolder?.(holder);
    reported = holder;
  };

  const sleep = (ms: number): Promise<void> => abortableSleep(opts.timers, ms, signal);

  /** One tryAcquireOrRenew; every call to the API is bounded by the renew deadline. */
  const tryOnce = async (): Promise<'leader' | 'held' | 'failed'> => {
    const call = AbortSignal.timeout(renewDeadlineMs);
    // A lock that ignores the signal still cannot hold a renewal past the deadline (a half-open connection).
    const bounded = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, new Promise<never>((_, reject) => call.addEventListener('abort', () => reject(new Error(`no answer within ${renewDeadlineMs} ms`)), { once: true }))]);
    try {
      const current = await bounded(opts.lock.get(call));
      const now = opts.clock.now();
      const a = attempt(memory, current?.record, now, config);
      if (a.kind === 'held') {
        memory = a.memory;
        return 'held';
      }
      const result = await bounded(a.kind === 'create' ? opts.lock.create(a.record, call) : opts.lock.update(a.record, current?.version ?? '', call));
      if (result === 'ok') memory = a.memory;
      else if (current) memory = observe(memory, current.record, now);
      return result === 'ok' ? 'leader' : 'failed';
    } catch (e) {
      opts.log.warn({ err: e }, 'Lease: could not read or write');
      return 'failed';
    } finally {
      report();
    }
  };

  while (!signal.aborted) {
    // Acquire.
    let state = await tryOnce();
    while (state !== 'leader' && !signal.aborted) {
      await sleep(retryMs * (1 + Math.random() * 0.2));
      if (!signal.aborted) state = await tryOnce();
    }
    if (signal.aborted) break;
    opts.log.info({ identity: opts.identity }, 'Became the leader: acting');
    const term = new AbortController();
    const done = work(term.signal).catch((e: unknown) => opts.log.error({ err: e }, 'Leader work failed'));
    // Renew.
    let renewedAt = opts.clock.now();
    let lostReason = '';
    while (!signal.aborted) {
      await sleep(retryMs);
      if (signal.aborted) break;
      const r = await tryOnce();
      if (r === 'leader') renewedAt = opts.clock.now();
      else if (r === 'held' || !isLeader(memory, config)) lostReason = `the lease is held by ${memory.observed?.holderIdentity || 'nobody'}`;
      else if (opts.clock.now() - renewedAt >= renewDeadlineMs) lostReason = `no renewal within the renew deadline (${renewDeadlineMs} ms)`;
      if (lostReason) break;
    }
    term.abort();
    if (lostReason) opts.log.warn({ identity: opts.identity }, `Lost the lease (${lostReason}): stopping every outside action`);
    // Not cut short by the stop signal: it bounds the term's shutdown.
    let bound: unknown;
    const stopped = await Promise.race([done.then(() => true), new Promise<boolean>((resolve) => (bound = opts.timers.setTimeout(() => resolve(false), leaseMs - renewDeadlineMs)))]);
    opts.timers.clearTimeout(bound);
    if (!stopped) {
      opts.log.fatal({ identity: opts.identity }, `Leader work did not stop within ${leaseMs - renewDeadlineMs} ms of losing the lease: exiting so that two replicas never act at once`);
      opts.onStuck();
      return;
    }
    if (signal.aborted && !lostReason) await release();
  }

  async function release(): Promise<void> {
    try {
      const current = await opts.lock.get(AbortSignal.timeout(renewDeadlineMs));
      if (!current || current.record.holderIdentity !== opts.identity) return;
      const r = await opts.lock.update(released(memory, opts.clock.now()), current.version, AbortSignal.timeout(renewDeadlineMs));
      opts.log.info({ identity: opts.identity }, r === 'ok' ? 'Released the lease' : 'Lease changed before it could be released');
    } catch (e) {
      opts.log.warn({ err: e }, 'Lease: could not release');
    }
    memory = {};
    report();
  }
}
