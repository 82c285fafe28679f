import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRollout, ProxyRolloutSpec, ProxyRolloutStatus } from '../../src/model/rollout.js';
import pino from 'pino';
import { API_VERSION } from '../../src/model/resource.js';
import { createRolloutReconciler } from '../../src/rollout/rollout-reconciler.js';
import { fleet as fleetResource, fleetSpec } from '../helpers/fleet-fixture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { RolloutWorld } from './helpers/rollout-world.js';
import { runScenario, type Scenario } from './helpers/rollout-harness.js';

const windows = [{ days: ['Sat', 'Sun'] as ('Sat' | 'Sun')[], start: '02:00', duration: '4h' }];
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const THURSDAY = Date.UTC(2026, 0, 1);

function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  return {
    ...base,
    regions: base.regions.map((r) => ({ ...r, maintenanceWindows: windows })),
    proxies: [...base.proxies, { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' }].map((p) => ({ ...p, upgrade: hook })),
  };
}

function scenario(rollout: Partial<ProxyRolloutSpec>, extra: Partial<Scenario> = {}): Scenario {
  return { fleet: fleet(), rollout: { version: '17.4.8', drain: { deadline: '30m' }, ...rollout }, startAt: THURSDAY, sessions: () => 50, ...extra };
}

const steps = (st: ProxyRolloutStatus) => Object.fromEntries((st.proxies ?? []).map((p) => [p.name, p.step]));
const condition = (st: ProxyRolloutStatus, type: string) => st.conditions?.find((c) => c.type === type);

test('a spec that does not fit the fleet is Invalid with the field named, and nothing is touched', async () => {
  const r = await runScenario(scenario({ selector: { regions: ['tokyo'], proxies: ['london-1'] } }));
  assert.equal(r.status.phase, 'Invalid');
  assert.equal(condition(r.status, 'Ready')?.reason, 'InvalidSpec');
  assert.equal(r.status.message, 'spec.selector.proxies[0]: proxy "london-1" is in region "london", which spec.selector.regions leaves out: the selectors contradict each other');
  assert.equal(r.world.hooks.length + r.world.notices.length, 0);
});

test('a single-proxy region is refused unless the spec accepts the outage', async () => {
  const lonely = { ...fleet(), proxies: fleet().proxies.filter((p) => p.name !== 'london-2') };
  const refused = await runScenario(scenario({}, { fleet: lonely }));
  assert.match(refused.status.message ?? '', /region "london" has 1 proxy in rotation/);
  const accepted = await runScenario(scenario({ allowRegionOutage: true }, { fleet: lonely }));
  assert.equal(accepted.status.phase, 'Completed', accepted.status.message);
});

test('a held-back rollout waits for start; pause stops new removals while the proxy out finishes', async () => {
  const takenOut = (st: ProxyRolloutStatus) => (st.proxies ?? []).filter((p) => p.outAt).map((p) => p.name);
  let heldBackPasses = 0;
  let started = false;
  let outAtPause: string[] | undefined;
  let pausedAt = 0;
  let pausedPasses = 0;
  let finishedWhilePaused = false;
  let resumed = false;
  const r = await runScenario(scenario({ paused: true }), undefined, {
    async afterPass(st, store, { world, clock }) {
      if (!started) {
        // Held back: it waits, pass after pass, with nothing given or taken out.
        assert.equal(st.phase, 'Pending');
        assert.equal(st.startedAt, undefined);
        assert.equal(st.message, 'Not started: run `meridian rollout start`');
        assert.equal(world.hooks.length + world.notices.length, 0);
        if (++heldBackPasses === 3) {
          await store.patchSpec('ProxyRollout', 'default', 'upgrade', { paused: null });
          started = true;
        }
        return;
      }
      if (!outAtPause) {
        if (st.proxies?.some((p) => p.step === 'Draining')) {
          await store.patchSpec('ProxyRollout', 'default', 'upgrade', { paused: true });
          outAtPause = takenOut(st);
          pausedAt = clock.now();
        }
        return;
      }
      if (resumed) return;
      // Paused: only the proxy already out may move; nothing else is taken out until resume.
      assert.equal(st.phase, 'Paused', st.message);
      assert.deepEqual(takenOut(st), outAtPause);
      pausedPasses++;
      finishedWhilePaused ||= (st.proxies ?? []).filter((p) => outAtPause?.includes(p.name)).every((p) => p.step === 'Done');
      // A week and more of windows after the pause shows that nothing else moves, then resume.
      if (finishedWhilePaused && clock.now() - pausedAt > 8 * 86_400_000) {
        await store.patchSpec('ProxyRollout', 'default', 'upgrade', { paused: null });
        resumed = true;
      }
    },
  });
  assert.equal(heldBackPasses, 3);
  assert.equal(outAtPause?.length, 1, `the proxies out at the pause: ${outAtPause?.join(', ')}`);
  assert.ok(finishedWhilePaused, 'the proxy out at the pause finished while paused');
  assert.ok(resumed, 'the rollout was Paused, and then resumed');
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.ok(takenOut(r.status).length > 1, 'after resume the rest were upgraded');
});

test('abort puts every taken-out proxy back in rotation on its current version and skips the rest', async () => {
  let aborted = false;
  const r = await runScenario(scenario({}), undefined, {
    async afterPass(st, store) {
      if (!aborted && st.proxies?.some((p) => p.step === 'Draining')) {
        await store.patchSpec('ProxyRollout', 'default', 'upgrade', { aborted: true });
        aborted = true;
      }
    },
  });
  assert.equal(r.status.phase, 'Aborted');
  assert.deepEqual(steps(r.status), { 'tokyo-1': 'Skipped', 'tokyo-2': 'Skipped', 'london-1': 'Skipped', 'london-2': 'Skipped' });
  for (const p of r.world.proxies.values()) assert.deepEqual([p.name, p.version, p.inLoadBalancer], [p.name, '17.4.2', true]);
  assert.match(r.status.proxies?.[0]?.message ?? '', /^Aborted: back in rotation on 17\.4\.2/);
});

test('a version that never becomes ready: with rollback the proxy returns to its old version and the rollout halts', async () => {
  const r = await runScenario(scenario({ failurePolicy: 'rollback', verify: { consecutiveScrapes: 2, timeout: '5m' } }, { world: { badVersions: ['17.4.8'] } }));
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(steps(r.status), { 'tokyo-1': 'Failed', 'tokyo-2': 'Noticed', 'london-1': 'Pending', 'london-2': 'Pending' });
  assert.match(r.status.proxies?.[0]?.message ?? '', /not verified within 300s.*; rolled back to 17\.4\.2$/);
  const tokyo1 = r.world.proxies.get('tokyo-1');
  assert.deepEqual([tokyo1?.version, tokyo1?.inLoadBalancer, tokyo1?.restarts], ['17.4.2', true, 2]);
  assert.match(r.status.message ?? '', /^Halted: tokyo-1: /);
});

test('with halt the failed proxy stays on the new version, back in rotation, and nothing else moves', async () => {
  const r = await runScenario(scenario({ verify: { consecutiveScrapes: 2, timeout: '5m' } }, { world: { badVersions: ['17.4.8'] } }));
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual([r.world.proxies.get('tokyo-1')?.version, r.world.proxies.get('tokyo-1')?.restarts], ['17.4.8', 1]);
  assert.equal(r.world.hooks.filter((h) => h.req.action === 'upgrade').length, 1);
});

test('a notice channel that keeps failing blocks removal (default) until it works; with warn the rollout goes on', async () => {
  const channels = [{ name: 'ops', type: 'slack' as const, url: 'https://hooks.slack.example/x' }];
  const blocked = await runScenario(scenario({ notice: { channels } }, { world: { channelFailures: { ops: 2 } } }));
  assert.equal(blocked.status.phase, 'Completed');
  const first = blocked.status.notices?.[0];
  assert.equal(first?.failedRounds, 2);
  assert.equal(first?.channels[0]?.result, 'sent');
  const warned = await runScenario(scenario({ notice: { channels, onFailure: 'warn' } }, { world: { channelFailures: { ops: 100 } } }));
  assert.equal(warned.status.phase, 'Completed');
  assert.ok(warned.status.notices?.every((n) => n.givenAt && n.channels[0]?.result === 'failed'));
  assert.equal(warned.world.notices.length, 0);
});

test('changing the target after the start stops new work with PlanChanged; the proxy on its way finishes on the old target', async () => {
  let edited = false;
  const r = await runScenario(scenario({}), undefined, {
    async afterPass(st, store) {
      if (!edited && st.proxies?.some((p) => p.step === 'Draining')) {
        await store.patchSpec('ProxyRollout', 'default', 'upgrade', { version: '17.5.0' });
        edited = true;
      } else if (edited && condition(st, 'Ready')?.reason === 'PlanChanged' && st.proxies?.some((p) => p.step === 'Done'))
        await store.patchSpec('ProxyRollout', 'default', 'upgrade', { aborted: true });
    },
  });
  assert.equal(r.status.phase, 'Aborted');
  assert.deepEqual(steps(r.status), { 'tokyo-1': 'Done', 'tokyo-2': 'Skipped', 'london-1': 'Skipped', 'london-2': 'Skipped' });
  assert.deepEqual([r.world.proxies.get('tokyo-1')?.version, r.world.proxies.get('tokyo-2')?.version], ['17.4.8', '17.4.2']);
});

test('a rollout aborted before it starts is Aborted once, and later passes write nothing', async () => {
  const store = new MemoryStore();
  const clock = new ManualClock(THURSDAY);
  store.put(fleetResource(fleet()));
  store.put({ apiVersion: API_VERSION, kind: 'ProxyRollout', metadata: { name: 'upgrade', namespace: 'default', generation: 1 }, spec: { version: '17.4.8', aborted: true } });
  const world = new RolloutWorld(fleet(), clock, () => 0);
  const reconciler = createRolloutReconciler({ store, clock, log: pino({ level: 'silent' }), snapshotOf: () => world.snapshot(), sendNotice: world.sendNotice, runHook: world.runHook });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await reconciler.reconcile({ kind: 'ProxyRollout', namespace: 'default', name: 'upgrade' }, new AbortController().signal), {});
    clock.advance(60_000);
  }
  assert.equal((await store.get('ProxyRollout', 'default', 'upgrade'))?.status?.phase, 'Aborted');
  assert.equal(store.statusWrites, 1);
});

test('a second rollout of the same fleet waits until the first has finished', async () => {
  const store = new MemoryStore();
  const clock = new ManualClock(THURSDAY);
  store.put(fleetResource(fleet()));
  const rollout = (name: string, version: string): ProxyRollout => ({ apiVersion: API_VERSION, kind: 'ProxyRollout', metadata: { name, namespace: 'default', generation: 1 }, spec: { version } });
  store.put(rollout('first', '17.4.8'));
  store.put(rollout('second', '17.5.0'));
  const world = new RolloutWorld(fleet(), clock, () => 0);
  const reconciler = createRolloutReconciler({ store, clock, log: pino({ level: 'silent' }), snapshotOf: () => world.snapshot(), sendNotice: world.sendNotice, runHook: world.runHook });
  const pass = (name: string) => reconciler.reconcile({ kind: 'ProxyRollout', namespace: 'default', name }, new AbortController().signal);
  await pass('first');
  await pass('second');
  const second = await store.get('ProxyRollout', 'default', 'second');
  assert.equal(second?.status?.startedAt, undefined);
  assert.equal(second?.status?.message, 'Waiting for rollout default/first of the same fleet to finish');
  const first = await store.get('ProxyRollout', 'default', 'first');
  assert.ok(first);
  store.put({ ...first, status: { ...first.status, phase: 'Completed' } });
  await pass('second');
  assert.ok((await store.get('ProxyRollout', 'default', 'second'))?.status?.startedAt);
});
