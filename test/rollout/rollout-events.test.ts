// A rollout's notable steps as Kubernetes Events, end to end: the real reconciler over the
// KubernetesStore and the Event recorder, against the test API server; asserts the stored Events.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { createEventRecorder, kubernetesEventSink, type EventRecorder } from '../../src/adapters/kubernetes/event-recorder.js';
import { KubeApiError } from '../../src/adapters/kubernetes/custom-objects.js';
import { KubernetesStore } from '../../src/adapters/kubernetes/kubernetes-store.js';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { OUT_OF_ROTATION_STEPS } from '../../src/model/rollout.js';
import { Conflict } from '../../src/model/store.js';
import { createRolloutReconciler } from '../../src/rollout/rollout-reconciler.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { waitFor } from '../helpers/wait.js';
import { RolloutWorld } from './helpers/rollout-world.js';

const THURSDAY = Date.UTC(2026, 0, 1);
const realTimers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
const log = pino({ level: 'silent' });

function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  const windows = [{ days: ['Sat' as const, 'Sun' as const], start: '02:00', duration: '4h' }];
  return {
    ...base,
    regions: base.regions.map((r) => ({ ...r, maintenanceWindows: windows })),
    proxies: [...base.proxies, { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' }].map((p) => ({
      ...p,
      upgrade: { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' },
    })),
  };
}

let server: TestCluster;
let store: KubernetesStore;
let events: EventRecorder;
before(async () => {
  server = await startTestCluster();
  const c = clientsFor(server);
  const at = { group: GROUP, version: VERSION, namespace: NS };
  await c.custom.createNamespacedCustomObject({ ...at, plural: 'proxyfleets', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyFleet', metadata: { name: 'demo' }, spec: fleet() } });
  await c.custom.createNamespacedCustomObject({ ...at, plural: 'proxyrollouts', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyRollout', metadata: { name: 'upgrade' }, spec: { version: '17.4.8', drain: { deadline: '30m' } } } });
  const kc = new KubeConfig();
  kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
  store = new KubernetesStore({ kubeConfig: kc, namespace: NS, timers: realTimers, log });
  await store.start();
  events = createEventRecorder({ sink: kubernetesEventSink(kc), identity: 'meridian-0-x1', refOf: (k) => store.refOf(k), now: () => clock.now(), log });
});
after(async () => {
  await events.close();
  await store.close();
  await server.close();
});
const clock = new ManualClock(THURSDAY);

test('a rollout run to its end leaves its notable steps as Events on the ProxyRollout', async () => {
  const world = new RolloutWorld(fleet(), clock, () => 50);
  const reconciler = createRolloutReconciler({ store, clock, log, snapshotOf: () => world.snapshot(), sendNotice: world.sendNotice, runHook: world.runHook, recordEvent: events.record });
  const key = { kind: 'ProxyRollout', namespace: NS, name: 'upgrade' };
  const signal = new AbortController().signal;
  // The first status write fails: that pass records nothing (its Events come with the pass that writes).
  server.faults.failNext(1, 500, { match: (r) => r.resource === 'proxyrollouts' && r.subresource === 'status' });
  let failed = 0;
  for (let passes = 0; ; passes++) {
    assert.ok(passes < 5_000, 'the rollout makes no progress');
    // A Conflict (the watch brought an older version after a write) is reconciled again at once, as the controller does.
    const result = await reconciler.reconcile(key, signal).catch((e: unknown) => {
      if (e instanceof Conflict) return { requeueAfterMs: 0 };
      if (e instanceof KubeApiError && e.statusCode === 500 && !failed++) return { requeueAfterMs: 0 };
      throw e;
    });
    const { requeueAfterMs } = result;
    const status = (await store.get('ProxyRollout', NS, 'upgrade'))?.status ?? {};
    if (status.phase === 'Completed') break;
    if (requeueAfterMs === 0) continue;
    const held = new Set((status.proxies ?? []).filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
    const step = Math.max(1, held.size ? Math.min(requeueAfterMs ?? 30_000, 30_000) : (requeueAfterMs ?? 3_600_000));
    clock.advance(step);
    world.tick(step, held);
  }
  // One more pass on the finished rollout says nothing again.
  await reconciler.reconcile(key, signal);
  await events.flush();

  assert.equal(failed, 1);
  const uid = ((await server.get('proxyrollouts', NS, 'upgrade'))?.['metadata'] as { uid: string }).uid;
  const stored = (await server.list('events', NS)) as unknown as { involvedObject: Record<string, string>; reason: string; type: string; message: string; count: number; source: { component: string } }[];
  assert.ok(stored.length > 0);
  for (const e of stored) {
    assert.deepEqual([e.involvedObject['kind'], e.involvedObject['name'], e.involvedObject['uid'], e.source.component], ['ProxyRollout', 'upgrade', uid, 'meridian']);
  }
  const of = (reason: string) => stored.filter((e) => e.reason === reason);
  const proxies = fleet().proxies.map((p) => p.name).sort();
  assert.deepEqual(of('RolloutStarted').map((e) => [e.type, e.message, e.count]), [['Normal', 'Upgrading 4 proxies to 17.4.8', 1]]);
  for (const reason of ['ProxyOutOfRotation', 'ProxyDrained', 'ProxyUpgraded']) {
    assert.deepEqual(of(reason).map((e) => proxies.find((p) => e.message.includes(p))).sort(), proxies, reason);
    assert.ok(of(reason).every((e) => e.type === 'Normal'), reason);
  }
  assert.ok(of('ProxyDrained').every((e) => /session\(s\) cut$/.test(e.message)));
  assert.deepEqual(of('RolloutCompleted').map((e) => [e.type, e.count]), [['Normal', 1]]);
});

test('a rollout that does not fit its fleet gets one Warning InvalidSpec, however often it is reconciled', async () => {
  const c = clientsFor(server);
  const body = { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyRollout', metadata: { name: 'misfit' }, spec: { version: '17.4.8', selector: { regions: ['tokyo'], proxies: ['london-1'] } } };
  await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyrollouts', body });
  const world = new RolloutWorld(fleet(), clock, () => 0);
  const reconciler = createRolloutReconciler({ store, clock, log, snapshotOf: () => world.snapshot(), sendNotice: world.sendNotice, runHook: world.runHook, recordEvent: events.record });
  const key = { kind: 'ProxyRollout', namespace: NS, name: 'misfit' };
  // The store knows it once the watch has brought it.
  await waitFor('the rollout in the store', () => store.get('ProxyRollout', NS, 'misfit'));
  for (let i = 0; i < 3; i++) {
    await reconciler.reconcile(key, new AbortController().signal).catch((e: unknown) => {
      if (!(e instanceof Conflict)) throw e;
    });
  }
  await events.flush();
  const said = (await server.list('events', NS)).filter((e) => (e['involvedObject'] as { name: string }).name === 'misfit') as unknown as { type: string; reason: string; message: string; count: number }[];
  assert.deepEqual(said.map((e) => [e.type, e.reason, e.count]), [['Warning', 'InvalidSpec', 1]]);
  assert.match(said[0]?.message ?? '', /^spec\.selector\.proxies\[0\]: proxy "london-1" is in region "london"/);
});
