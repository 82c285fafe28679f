import type { Clock } from '../model/clock.js';
import type { ProxyFleetSpec } from '../model/fleet.js';
import { EMPTY_SNAPSHOT, type FleetSnapshot, type ProxyObservation } from '../model/snapshot.js';
import type { Observer } from './observer.js';

/** A spec to observe, and which ProxyFleet (and generation) it is, recorded in the snapshot. */
export interface ObservedFleet {
  readonly spec: ProxyFleetSpec;
  readonly fleet?: FleetSnapshot['fleet'];
}

export interface ObserverLoopOptions {
  readonly observer: Observer;
  /** Time from the start of one cycle to the start of the next; a longer cycle is followed at once. */
  readonly intervalMs: number;
  /** The fleet to observe now; undefined (no valid fleet yet) skips the cycle. */
  readonly getFleet: () => ObservedFleet | undefined;
  /** Called with each new snapshot and how long its cycle took (with a clock; else 0). */
  readonly onSnapshot: (snapshot: FleetSnapshot, cycleMs: number) => void;
  /** Called with each proxy's observation as soon as it is made, before its cycle ends. */
  readonly onObservation?: (observation: ProxyObservation) => void;
  readonly signal: AbortSignal;
  /** Resolves after ms, or early (resolve or reject) when the signal aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Subtracts each cycle's own duration from the wait; without it the loop waits the full interval after each cycle. */
  readonly clock?: Clock;
  /** Where the first cycle's "previous" comes from (e.g. a restored snapshot). */
  readonly initial?: FleetSnapshot;
  /** A cycle or onSnapshot that throws is reported here and the loop goes on; without it the loop rejects. */
  readonly onError?: (error: unknown) => void;
}

/** Runs observation cycles one after another until the signal aborts; resolves with the last snapshot. */
export async function runObserverLoop(options: ObserverLoopOptions): Promise<FleetSnapshot> {
  const { observer, intervalMs, getFleet, onSnapshot, signal, sleep, clock, onError } = options;
  let previous = options.initial ?? EMPTY_SNAPSHOT;
  while (!signal.aborted) {
    const startedAt = clock?.now();
    const target = getFleet();
    if (target) {
      try {
        const snapshot = await observer.observe(target.spec, previous, {
          signal,
          ...(target.fleet ? { fleet: target.fleet } : {}),
          ...(options.onObservation ? { onObservation: options.onObservation } : {}),
        });
        previous = snapshot;
        onSnapshot(snapshot, clock && startedAt !== undefined ? clock.now() - startedAt : 0);
      } catch (e) {
        if (signal.aborted) break;
        if (!onError) throw e;
        onError(e);
      }
    }
    const elapsedMs = clock && startedAt !== undefined ? clock.now() - startedAt : 0;
    try {
      await sleep(Math.max(0, intervalMs - elapsedMs), signal);
    } catch (e) {
      if (signal.aborted) break;
      throw e;
    }
  }
  return previous;
}
