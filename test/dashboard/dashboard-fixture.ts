import pino from 'pino';
import { Registry } from 'prom-client';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import type { AdminAuth } from '../../src/admin/auth/admin-auth.js';
import { fleetView } from '../../src/admin/fleet-view.js';
import { storeRoutes } from '../../src/admin/store-routes.js';
import { changeOfKey, createChangeHub } from '../../src/dashboard/change-feed.js';
import { rolloutPlanSource } from '../../src/dashboard/rollout-plan-source.js';
import type { HistoryView } from '../../src/dashboard/session-history.js';
import type { ProxyCanary } from '../../src/model/canary.js';
import { OUT_OF_ROTATION_STEPS, type ProxyRollout } from '../../src/model/rollout.js';
import { explainChoice } from '../../src/redirect/core/explain-choice.js';
import { buildRoutingTable } from '../../src/redirect/core/routing-table.js';
import { fleet, fleetSpec } from '../helpers/fleet-fixture.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';

const SAT_4H = [{ days: ['Sat' as const, 'Sun' as const], start: '02:00', duration: '4h' }];
const HOOK = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };

/** "Now" for the plans the fixture's app makes. */
export const PLAN_NOW = Date.parse('2026-01-05T00:00:00.000Z');

/** A rollout to 17.4.8 that holds tokyo-2 out of rotation, draining. */
export function drainingRollout(): ProxyRollout {
  return {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyRollout',
    metadata: { name: 'upgrade', namespace: 'default', generation: 1 },
    spec: { version: '17.4.8' },
    status: {
      phase: 'Progressing',
      message: 'Wave 1/2: 0/3 done, 1 out of rotation',
      startedAt: '2026-01-01T00:00:00.000Z',
      proxies: [
        { name: 'tokyo-2', region: 'tokyo', wave: 0, step: 'Draining', fromVersion: '17.4.2', outAt: '2026-01-01T00:00:00.000Z', sessionsAtOut: 16 },
        { name: 'tokyo-1', region: 'tokyo', wave: 0, step: 'Pending' },
        { name: 'london-1', region: 'london', wave: 1, step: 'Pending' },
      ],
    },
  } as unknown as ProxyRollout;
}

export function bakingCanary(): ProxyCanary {
  return {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyCanary',
    metadata: { name: 'debug', namespace: 'default', generation: 1 },
    spec: { build: { version: '17.4.9-debug.1', debug: true }, subset: { perRegion: 1 } },
    status: {
      phase: 'Baking',
      startedAt: '2026-01-01T00:00:00.000Z',
      intervals: [{ from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:05:00.000Z', verdict: 'Pass', outcomes: [{ check: 'process-state', proxy: 'london-1', result: 'Pass', value: 0, baseline: 0, limit: 0, sample: 10, reason: 'process state ok' }] }],
    },
  } as unknown as ProxyCanary;
}

/**
 * The admin app over an in-memory store holding a two-region fleet (tokyo: 32 sessions on two
 * proxies, london: 16), observed; a draining rollout and a baking canary. Routing puts the
 * proxies the store's rollouts hold out of rotation, as the controller does. Store writes reach
 * `changes`, as the controller's wiring does.
 */
export async function dashboardApp(options: { auth?: AdminAuth; live?: boolean; history?: () => HistoryView; invitations?: () => Promise<ReadonlyMap<string, number> | undefined> } = {}) {
  const store = new MemoryStore();
  // Windows and upgrade hooks: a rollout not started can be planned.
  const base = fleetSpec();
  const f = fleet({ ...base, regions: base.regions.map((r) => ({ ...r, maintenanceWindows: SAT_4H })), proxies: base.proxies.map((p) => ({ ...p, upgrade: HOOK })) });
  store.put(f);
  store.put(drainingRollout());
  store.put(bakingCanary());
  const snap = snapshot([observation('tokyo-1', 'tokyo'), observation('tokyo-2', 'tokyo'), observation('london-1', 'london', { metrics: metrics() })]);
  const outOfRotation = async (): Promise<Set<string>> =>
    new Set((await store.list('ProxyRollout')).flatMap((r) => (r.spec.aborted ? [] : (r.status?.proxies ?? []).filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name))));
  let held = await outOfRotation();
  const changes = createChangeHub();
  store.watch((key) => {
    void outOfRotation().then((s) => (held = s));
    const c = changeOfKey(key);
    if (c) changes.publish(c);
  });
  const app = await buildAdminApp({
    log: pino({ level: 'silent' }),
    registry: new Registry(),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.live === false ? {} : { changes }),
    ...(options.history ? { history: options.history } : {}),
    ...(options.invitations ? { invitations: options.invitations } : {}),
    notReadyReason: () => undefined,
    fleets: async () => ({ fleets: [fleetView(f, snap)] }),
    problems: () => ({ problems: [] }),
    explain: (ip, region) => explainChoice({ clientKey: ip, ...(region ? { regionOverride: region } : {}) }, buildRoutingTable(f.spec, snap, { outOfRotation: held })),
    ...storeRoutes(store),
    rolloutPlan: rolloutPlanSource({ store, snapshotOf: () => snap, now: () => PLAN_NOW, scrapeIntervalMs: 5_000 }),
  });
  return { app, store, changes, fleet: f, snapshot: snap };
}
