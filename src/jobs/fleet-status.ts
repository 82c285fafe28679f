import { createFleetReconciler } from '../fleet/fleet-reconciler.js';
import type { Job } from './job.js';
import { leadKind } from './lead-kind.js';

/** The acting instance: keeps each ProxyFleet's status in step with what is observed. */
export const fleetStatusJob: Job = {
  name: 'fleet-status',
  async start(d) {
    const reconciler = createFleetReconciler({ store: d.store, clock: d.runtime.clock, log: d.log.child({ controller: 'proxyfleet' }), snapshotOf: d.observed.snapshotOf });
    return { close: await leadKind(d, 'ProxyFleet', reconciler, (c, term) => d.observed.onSnapshot((key) => c.enqueue(key), term)) };
  },
};
