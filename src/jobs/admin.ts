import { buildAdminApp } from '../admin/admin-app.js';
import { fleetView, problemsView } from '../admin/fleet-view.js';
import { storeRoutes } from '../admin/store-routes.js';
import { keyOf } from '../model/resource.js';
import { Closers } from '../runtime/closers.js';
import type { Job } from './job.js';
import { proxyTunnels } from '../peering/peering-report-view.js';
import { changeOfKey, createChangeHub } from '../dashboard/change-feed.js';

/**
 * Every instance: the internal admin listener (/metrics, /healthz, /readyz, the JSON API, the
 * dashboard and its change stream). It is ready once the fleet is observed, whoever leads.
 */
export const adminJob: Job = {
  name: 'admin',
  async start({ config, log, registry, store, runtime, observed, adminAuth, offered }) {
    const closers = new Closers();
    return closers.guard(async () => {
      // What the dashboard hears of: every store change (status writes included) and every observation.
      const changes = createChangeHub();
      const stop = new AbortController();
      closers.add(() => stop.abort());
      closers.add(
        store.watch((key) => {
          const c = changeOfKey(key);
          if (c) changes.publish(c);
        }),
      );
      observed.onSnapshot(() => changes.publish({ topic: 'fleet' }), stop.signal);
      observed.onObservation(() => changes.publish({ topic: 'fleet' }), stop.signal);
      const app = await buildAdminApp({
        log,
        registry,
        auth: adminAuth,
        controllerClock: runtime.reading,
        notReadyReason: () => (!observed.fleet() ? 'no valid ProxyFleet' : observed.snapshots().length === 0 ? 'waiting for the first observation' : undefined),
        fleets: async () => ({ fleets: (await store.list('ProxyFleet')).map((f) => fleetView(f, observed.snapshotOf(keyOf(f)))) }),
        problems: () => problemsView(store.problems()),
        explain: (ip, region, canary) => offered.explain?.(ip, region, canary),
        ...storeRoutes(store),
        proxyTunnels: () => proxyTunnels(observed.snapshot()),
        changes,
      });
      closers.add(() => app.close());
      const adminUrl = await app.listen({ host: config.admin.host, port: config.admin.port });
      return { close: closers.close, offers: { adminUrl } };
    });
  },
};
