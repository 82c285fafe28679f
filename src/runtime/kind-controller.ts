import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { Kind, KindMap } from '../model/kinds.js';
import { keyOf, keyString, type ResourceKey } from '../model/resource.js';
import type { Store } from '../model/store.js';
import { runController } from './controller.js';
import type { Reconciler } from './reconciler.js';
import { WorkQueue, type Timers } from './work-queue.js';

export interface KindControllerDeps<K extends Kind> {
  readonly kind: K;
  readonly store: Store;
  readonly reconciler: Reconciler;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly stopwatch: () => number;
  readonly log: Logger;
  readonly onPass: (kind: string, result: 'success' | 'error', seconds: number) => void;
  /** After the cached copy of an object changed (its status says what the redirect must follow). */
  readonly onChange: () => void;
}

/**
 * One kind's controller: a work queue fed with keys, the reconcile loop, and a cache of the
 * stored objects for readers that cannot wait for the store (the routing table, metrics).
 */
export function createKindController<K extends Kind>(deps: KindControllerDeps<K>) {
  const cache = new Map<string, KindMap[K]>();
  const queue = new WorkQueue({ baseBackoffMs: 1_000, maxBackoffMs: 300_000, timers: deps.timers });

  async function refresh(key: ResourceKey): Promise<void> {
    const o = await deps.store.get(deps.kind, key.namespace, key.name);
    if (o) cache.set(keyString(key), o);
    else cache.delete(keyString(key));
    deps.onChange();
  }

  return {
    cache,
    /** Every object again: the fleet or its observation changed. */
    enqueueAll(): void {
      for (const o of cache.values()) queue.add(keyOf(o));
    },
    /** A watch event for this kind: reconcile it, and refresh the cached copy. */
    changed(key: ResourceKey): void {
      queue.add(key);
      void refresh(key).catch((e: unknown) => deps.log.error({ err: e, ...key }, `Could not read ${deps.kind}`));
    },
    /** Loads the objects and starts the loop; `done` settles when the signal stops it (a bare promise would be awaited away). */
    async start(signal: AbortSignal): Promise<{ readonly done: Promise<void> }> {
      for (const o of await deps.store.list(deps.kind)) {
        cache.set(keyString(keyOf(o)), o);
        queue.add(keyOf(o));
      }
      return { done: runController({ reconciler: deps.reconciler, queue, clock: deps.clock, stopwatch: deps.stopwatch, log: deps.log, onPass: deps.onPass }, signal) };
    },
    shutDown(): void {
      queue.shutDown();
    },
  };
}
