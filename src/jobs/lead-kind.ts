import type { Kind } from '../model/kinds.js';
import { startKindController, type KindControllerTerm } from '../runtime/kind-controller.js';
import type { Reconciler } from '../runtime/reconciler.js';
import type { JobDeps } from './job.js';

/**
 * Runs a kind's controller in every term this instance leads. `wire` says what else queues the
 * kind's objects (an observation, a fleet edit), for as long as the term lasts.
 */
export function leadKind<K extends Kind>(d: JobDeps, kind: K, reconciler: Reconciler, wire?: (c: KindControllerTerm, term: AbortSignal) => void): Promise<() => Promise<void>> {
  return d.leadership.run(async (term) => {
    const { clock, timers, stopwatch } = d.runtime;
    const c = startKindController({ cache: d.caches[kind], reconciler, clock, timers, stopwatch, log: d.log, onPass: d.onPass }, term);
    wire?.(c, term);
    return () => c.done;
  });
}
