import { canaryClaims } from '../canary/core/canary-runs.js';
import { createRolloutReconciler } from '../rollout/rollout-reconciler.js';
import type { Job } from './job.js';
import { leadKind } from './lead-kind.js';
import { outOfRotation } from './out-of-rotation.js';
import { outsideActions } from './outside-actions.js';

/** The acting instance: drives each ProxyRollout, moved on by every observation and fleet edit. */
export const rolloutsJob: Job = {
  name: 'rollouts',
  async start(d) {
    const { caches, observed } = d;
    const reconciler = createRolloutReconciler({
      store: d.store,
      clock: d.runtime.clock,
      log: d.log.child({ controller: 'proxyrollout' }),
      snapshotOf: observed.snapshotOf,
      ...outsideActions(d.log),
      metrics: d.runMetrics,
      outOfRotation: () => outOfRotation({ rollouts: caches.ProxyRollout.values(), canaries: caches.ProxyCanary.values() }),
      claimedByCanaries: () => canaryClaims(caches.ProxyCanary.values()),
      recordEvent: d.recordEvent,
    });
    const close = await leadKind(d, 'ProxyRollout', reconciler, (c, term) => {
      // Drains and verifications move on what each observation shows.
      observed.onSnapshot(c.enqueueAll, term);
      observed.onFleet(c.enqueueAll, term);
    });
    return { close };
  },
};
