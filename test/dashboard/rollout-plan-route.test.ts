import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rolloutsFrame } from '../../src/admin/dashboard-frames.js';
import { rolloutPlanSource } from '../../src/dashboard/rollout-plan-source.js';
import type { ProxyRollout } from '../../src/model/rollout.js';
import { planRolloutChecked, type RolloutPlan } from '../../src/rollout/core/plan-rollout.js';
import { dashboardApp, PLAN_NOW } from './dashboard-fixture.js';

function waiting(name: string, spec: Partial<ProxyRollout['spec']> = {}): ProxyRollout {
  return { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name, namespace: 'default', generation: 1 }, spec: { version: '17.4.9', paused: true, drainDeadline: '2h', allowRegionOutage: true, ...spec } } as ProxyRollout;
}

test('GET /api/v1/rollouts/NS/NAME/plan: the plan `meridian rollout plan --server` prints, from the stored fleet, the observed sessions and versions, on the controller\'s clock', async (t) => {
  const { app, store, fleet, snapshot } = await dashboardApp();
  t.after(() => app.close());
  const r = waiting('next');
  store.put(r);
  const res = await app.inject({ method: 'GET', url: '/api/v1/rollouts/default/next/plan' });
  assert.equal(res.statusCode, 200, res.body);
  const sessions = new Map(snapshot.proxies.map((p) => [p.name, p.sessionsTotal]));
  const versions = new Map(snapshot.proxies.map((p) => [p.name, p.metrics?.version ?? '']));
  const expected = planRolloutChecked({ rollout: 'default/next', spec: r.spec, fleet: fleet.spec, sessions, versions, now: PLAN_NOW, scrapeIntervalMs: 5_000 });
  assert.ok(expected.ok);
  const body = res.json<RolloutPlan>();
  assert.deepEqual(body, JSON.parse(JSON.stringify(expected.value)));
  // The numbers the timeline draws: Saturday's windows, each proxy out and back within them, 2 h deadline.
  assert.equal(body.settings.drainDeadlineMs, 7_200_000);
  assert.equal(body.totals.sessionsNow, 48);
  assert.deepEqual(body.waves.flatMap((w) => w.regions.map((g) => [g.region, g.window?.startUtc])), [
    ['tokyo', '2026-01-09 17:00 UTC'],
    ['london', '2026-01-10 02:00 UTC'],
  ]);
});

test('the plan of a rollout not stored is 404; one that cannot be planned is 409 with the reason', async (t) => {
  const { app, store } = await dashboardApp();
  t.after(() => app.close());
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/rollouts/default/nope/plan' })).statusCode, 404);
  store.put(waiting('bad', { fleet: 'other' }));
  const res = await app.inject({ method: 'GET', url: '/api/v1/rollouts/default/bad/plan' });
  assert.equal(res.statusCode, 409);
  assert.match(res.json<{ message: string }>().message, /ProxyFleet "other" not found/);
});

test('the pushed rollout event gives each rollout not started the plan GET .../plan answers, or its refusal; a started one none', async (t) => {
  const { app, store, snapshot } = await dashboardApp();
  t.after(() => app.close());
  store.put(waiting('next'));
  store.put(waiting('bad', { fleet: 'other' }));
  const frame = (await rolloutsFrame({ rollouts: () => store.list('ProxyRollout'), plan: rolloutPlanSource({ store, snapshotOf: () => snapshot, now: () => PLAN_NOW, scrapeIntervalMs: 5_000 }) })()) as {
    rollouts: { name: string; plan?: unknown; planError?: string }[];
  };
  const byName = new Map(JSON.parse(JSON.stringify(frame)).rollouts.map((r: { name: string }) => [r.name, r]));
  const asked = async (name: string) => app.inject({ method: 'GET', url: `/api/v1/rollouts/default/${name}/plan` });
  const next = byName.get('next') as { plan?: RolloutPlan };
  assert.deepEqual(next.plan, (await asked('next')).json<RolloutPlan>());
  assert.equal((byName.get('bad') as { planError?: string }).planError, (await asked('bad')).json<{ message: string }>().message);
  const started = byName.get('upgrade') as { plan?: unknown; planError?: unknown };
  assert.equal(started.plan, undefined);
  assert.equal(started.planError, undefined);
});
