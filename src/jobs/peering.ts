import { readSecret, runCommand } from '../adapters/hooks/index.js';
import { createPeeringActions } from '../adapters/peering/peering-actions.js';
import { createInventoryReader } from '../adapters/teleport/inventory-reader.js';
import { err, ok } from '../model/result.js';
import { registerPeeringMetrics } from '../peering/peering-metrics.js';
import { createPeeringReconciler } from '../peering/peering-reconciler.js';
import { systemClock } from '../runtime/controller-runtime.js';
import type { Job } from './job.js';
import { leadKind } from './lead-kind.js';
import { outOfRotation } from './out-of-rotation.js';
import { outsideActions } from './outside-actions.js';

/** The acting instance: keeps each ProxyPeering's links planned and applied; every instance answers its report. */
export const peeringJob: Job = {
  name: 'peering',
  async start(d) {
    const { caches, observed } = d;
    const metrics = registerPeeringMetrics(d.registry, () => [...caches.ProxyPeering.values()]);
    const { runHook } = outsideActions(d.log);
    const readInventory = createInventoryReader({ runCommand });
    const reconciler = createPeeringReconciler({
      store: d.store,
      clock: d.runtime.clock,
      log: d.log.child({ controller: 'proxypeering' }),
      snapshotOf: observed.snapshotOf,
      // Out of rotation (cordoned, or held by a run): never a link target.
      outOfRotation: () => outOfRotation({ rollouts: caches.ProxyRollout.values(), canaries: caches.ProxyCanary.values(), fleet: observed.fleet() }),
      readInventory,
      actions: createPeeringActions({ clock: systemClock, readSecret, runCommand, readInventory }),
      configureProxy: async (req, signal) => {
        const running = observed.snapshot()?.proxies.find((o) => o.name === req.proxy.name)?.metrics?.version;
        const r = await runHook({ id: req.id, rollout: req.owner, action: 'configure', proxy: req.proxy, version: running ?? req.proxy.version, peer: { listenAddr: req.listenAddr, publicAddr: req.publicAddr } }, signal);
        return r.ok ? ok(r.value) : err(r.error.error);
      },
      onInventoryError: metrics.onInventoryError,
      onDrift: metrics.onDrift,
      recordEvent: d.recordEvent,
    });
    const close = await leadKind(d, 'ProxyPeering', reconciler, (c, term) => observed.onFleet(c.enqueueAll, term));
    return { close };
  },
};
