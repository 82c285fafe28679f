import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { ResourceKey } from '../model/resource.js';
import { Conflict } from '../model/store.js';
import type { Reconciler } from './reconciler.js';
import type { WorkQueue } from './work-queue.js';

export interface ControllerDeps {
  readonly reconciler: Reconciler;
  readonly queue: WorkQueue;
  /** The controller's time: requeue delays are in its units. */
  readonly clock: Clock;
  /** Monotonic ms for pass durations (performance.now); default the clock. */
  readonly stopwatch?: () => number;
  readonly log: Logger;
  readonly onPass?: (kind: string, result: 'success' | 'error', seconds: number) => void;
}

/** Runs reconcile passes for queued keys, one at a time per key, until the signal aborts. */
export async function runController(deps: ControllerDeps, signal: AbortSignal): Promise<void> {
  const { reconciler, queue, clock, log } = deps;
  signal.addEventListener('abort', () => queue.shutDown(), { once: true });
  for (;;) {
    const key = await queue.get();
    if (!key) return;
    await reconcileOne(deps, key, signal);
    queue.done(key);
    if (signal.aborted) return;
  }

  async function reconcileOne(d: ControllerDeps, key: ResourceKey, s: AbortSignal): Promise<void> {
    const watch = d.stopwatch ?? (() => clock.now());
    const started = watch();
    const klog = log.child({ kind: key.kind, namespace: key.namespace, name: key.name });
    try {
      const result = await reconciler.reconcile(key, s);
      queue.forget(key);
      if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs, clock.now());
      d.onPass?.(key.kind, 'success', (watch() - started) / 1000);
    } catch (e) {
      if (e instanceof Conflict) {
        // Someone wrote the object since it was read: not a failure; again at once, from fresh state.
        queue.forget(key);
        queue.add(key);
        klog.debug({ err: e }, `Conflict writing ${key.kind}: reconciling again`);
        d.onPass?.(key.kind, 'success', (watch() - started) / 1000);
        return;
      }
      const delay = queue.addRateLimited(key, clock.now());
      klog.error({ err: e, retryInMs: delay }, `Reconcile of ${key.kind} failed`);
      d.onPass?.(key.kind, 'error', (watch() - started) / 1000);
    }
  }
}
