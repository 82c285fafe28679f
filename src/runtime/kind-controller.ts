import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { Kind } from '../model/kinds.js';
import { keyOf, type ResourceKey } from '../model/resource.js';
import { runController } from './controller.js';
import type { KindCache } from './kind-cache.js';
import type { Reconciler } from './reconciler.js';
import { WorkQueue, type Timers } from './work-queue.js';

export interface KindControllerDeps<K extends Kind> {
  /** The kind's objects: queued at the start, and again whenever one changes. */
  readonly cache: KindCache<K>;
  readonly reconciler: Reconciler;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly stopwatch: () => number;
  readonly log: Logger;
  readonly onPass: (kind: string, result: 'success' | 'error', seconds: number) => void;
}

export interface KindControllerTerm {
  enqueue(key: ResourceKey): void;
  /** Every object again: the fleet or its observation changed. */
  enqueueAll(): void;
  /** Settles once the loop has stopped, after the term ends. */
  readonly done: Promise<void>;
}

/**
 * One kind's controller for one leadership term, the same for every kind: a work queue (failures
 * back off from 1 s to 5 min) fed by the kind's cache, and the reconcile loop. A new term starts
 * from a fresh queue holding every object.
 */
export function startKindController<K extends Kind>(deps: KindControllerDeps<K>, term: AbortSignal): KindControllerTerm {
  const queue = new WorkQueue({ baseBackoffMs: 1_000, maxBackoffMs: 300_000, timers: deps.timers });
  const enqueueAll = (): void => {
    for (const o of deps.cache.values()) queue.add(keyOf(o));
  };
  enqueueAll();
  deps.cache.onChange((key) => queue.add(key), term);
  const { reconciler, clock, stopwatch, log, onPass } = deps;
  return { enqueue: (key) => queue.add(key), enqueueAll, done: runController({ reconciler, queue, clock, stopwatch, log, onPass }, term) };
}
