import { buildAdminApp } from '../admin/admin-app.js';
import { fleetView, problemsView } from '../admin/fleet-view.js';
import { storeRoutes } from '../admin/store-routes.js';
import type { ProxyFleet } from '../model/fleet.js';
import { keyOf, type ResourceKey } from '../model/resource.js';
import type { FleetSnapshot } from '../model/snapshot.js';
import { Closers } from '../runtime/closers.js';
import type { Job } from './job.js';
import { proxyTunnels } from '../peering/peering-report-view.js';
import { changeOfKey, createChangeHub } from '../dashboard/change-feed.js';
import { createSessionHistory } from '../dashboard/session-history.js';
import { throttle } from '../dashboard/throttle.js';
import { rolloutPlanSource } from '../dashboard/rollout-plan-source.js';

/**
 * A fleet notice rebuilds the fleet frame pushed to every open page: at most one per the default observe
 * interval (each snapshot of a production controller; in the demo, which snapshots ten times a second, one in twenty).
 */
const FLEET_NOTICE_GAP_MS = 2_000;

/**
 * Every instance: the internal admin listener (/metrics, /healthz, /readyz, the JSON API, the
 * dashboard and its event stream). It is ready once the fleet is observed, whoever leads.
 */
export const adminJob: Job = {
  name: 'admin',
  async start({ config, log, registry, store, caches, runtime, observed, adminAuth, offered }) {
    const closers = new Closers();
    return closers.guard(async () => {
      // What the dashboard hears of: every store change (status writes included) and every observation.
      const changes = createChangeHub();
      const stop = new AbortController();
      closers.add(() => stop.abort());
      const publish = (key: ResourceKey): void => {
        const c = changeOfKey(key);
        if (c) changes.publish(c);
      };
      // Runs are told once their cached copy is fresh: the routing (rebuilt from the caches, by the
      // redirect job that started first) then holds their change, and the fleet frame shows it.
      // A peering's report changes with every read (in the demo, more than once a second) and weighs
      // ~10 KiB: pushed at most once per FLEET_NOTICE_GAP_MS, as the fleet is.
      const peeringNotice = throttle(FLEET_NOTICE_GAP_MS, () => changes.publish({ topic: 'peering' }));
      closers.add(peeringNotice.cancel);
      closers.add(
        store.watch((key) => {
          if (key.kind === 'ProxyPeering') peeringNotice();
          else if (key.kind !== 'ProxyRollout' && key.kind !== 'ProxyCanary') publish(key);
        }),
      );
      caches.ProxyRollout.onChange(publish, stop.signal);
      caches.ProxyCanary.onChange(publish, stop.signal);
      // Every open page is sent the fleet on a notice: see FLEET_NOTICE_GAP_MS.
      const fleetNotice = throttle(FLEET_NOTICE_GAP_MS, () => changes.publish({ topic: 'fleet' }));
      closers.add(fleetNotice.cancel);
      // Sampled before the notice, so the fleet frame it rebuilds carries the new point.
      const history = createSessionHistory();
      observed.onSnapshot((key) => {
        const current = observed.fleet();
        const snapshot = observed.snapshotOf(key);
        if (snapshot && current && keyOf(current).name === key.name && keyOf(current).namespace === key.namespace) history.record(snapshot);
        fleetNotice();
      }, stop.signal);
      // A proxy out of rotation before its cycle ends: told at once.
      observed.onObservation(() => changes.publish({ topic: 'fleet' }), stop.signal);
      // One view per fleet version and snapshot, however many dashboards and scrapers ask.
      const views = memoFleetViews();
      const app = await buildAdminApp({
        log,
        registry,
        auth: adminAuth,
        controllerClock: runtime.reading,
        notReadyReason: () => (!observed.fleet() ? 'no valid ProxyFleet' : observed.snapshots().length === 0 ? 'waiting for the first observation' : undefined),
        fleets: async () => ({ fleets: (await store.list('ProxyFleet')).map((f) => views.of(f, observed.snapshotOf(keyOf(f)))) }),
        problems: () => problemsView(store.problems()),
        explain: (ip, region, canary) => offered.explain?.(ip, region, canary),
        ...storeRoutes(store),
        proxyTunnels: () => proxyTunnels(observed.snapshot()),
        changes,
        history: history.view,
        // The login listener's count: absent when invitations are off.
        invitations: async () => offered.activeInvitations?.(),
        rolloutPlan: rolloutPlanSource({ store, snapshotOf: observed.snapshotOf, now: () => runtime.reading().now, scrapeIntervalMs: config.observe.intervalMs }),
      });
      closers.add(() => app.close());
      const adminUrl = await app.listen({ host: config.admin.host, port: config.admin.port });
      return { close: closers.close, offers: { adminUrl } };
    });
  },
};

/** fleetView, built once for each stored fleet object and snapshot (both are replaced, never changed, when they change). */
function memoFleetViews() {
  const built = new WeakMap<ProxyFleet, { snapshot: FleetSnapshot | undefined; view: ReturnType<typeof fleetView> }>();
  return {
    of(fleet: ProxyFleet, snapshot: FleetSnapshot | undefined): ReturnType<typeof fleetView> {
      const hit = built.get(fleet);
      if (hit && hit.snapshot === snapshot) return hit.view;
      const view = fleetView(fleet, snapshot);
      built.set(fleet, { snapshot, view });
      return view;
    },
  };
}
