// A canary's verdicts, rollback and promotion as Kubernetes Events, end to end: the real reconciler
// and rollout engine over the KubernetesStore and the Event recorder, against the test API server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { createEventRecorder, kubernetesEventSink, type EventRecorder } from '../../src/adapters/kubernetes/event-recorder.js';
import { KubernetesStore } from '../../src/adapters/kubernetes/kubernetes-store.js';
import { createCanaryReconciler } from '../../src/canary/canary-reconciler.js';
import type { ProxyCanaryStatus } from '../../src/model/canary.js';
import { OUT_OF_ROTATION_STEPS } from '../../src/model/rollout.js';
import { Conflict } from '../../src/model/store.js';
import { createRolloutEngine } from '../../src/rollout/rollout-engine.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { clientsFor, GROUP, VERSION } from '../kube/client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { RolloutWorld, type WorldOptions } from '../rollout/helpers/rollout-world.js';
import { BUILD, canary, canaryFleet } from './helpers/run-canary.js';

const realTimers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
const log = pino({ level: 'silent' });
const clock = new ManualClock(Date.UTC(2026, 0, 5));

let server: TestCluster;
let store: KubernetesStore;
let events: EventRecorder;
before(async () => {
  server = await startTestCluster({ namespaces: ['good', 'bad'] });
  const kc = new KubeConfig();
  kc.loadFromOptions(server.kubeconfig());
  // Each canary in a namespace of its own, with its fleet: the store watches all namespaces.
  const c = clientsFor(server);
  for (const namespace of ['good', 'bad']) {
    const at = { group: GROUP, version: VERSION, namespace };
    await c.custom.createNamespacedCustomObject({ ...at, plural: 'proxyfleets', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyFleet', metadata: { name: 'demo' }, spec: canaryFleet() } });
    const { spec } = canary();
    await c.custom.createNamespacedCustomObject({ ...at, plural: 'proxycanaries', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyCanary', metadata: { name: 'debug' }, spec } });
  }
  store = new KubernetesStore({ kubeConfig: kc, timers: realTimers, log });
  await store.start();
  events = createEventRecorder({ sink: kubernetesEventSink(kc), identity: 'meridian-0-x1', refOf: (k) => store.refOf(k), now: () => clock.now(), log });
});
after(async () => {
  await events.close();
  await store.close();
  await server.close();
});

async function runToEnd(namespace: string, world: WorldOptions): Promise<ProxyCanaryStatus> {
  const w = new RolloutWorld(canaryFleet(), clock, () => 20, { sessionHalfLifeMs: 60_000, ...world });
  const reconciler = createCanaryReconciler({
    store,
    clock,
    log,
    snapshotOf: () => w.snapshot(),
    engine: createRolloutEngine({ clock, sendNotice: w.sendNotice, runHook: w.runHook, recordEvent: events.record }),
    captureDiagnostics: async (_canary, proxy) => ({ files: [`/state/diagnostics/${proxy.name}-goroutine.txt`] }),
    recordEvent: events.record,
  });
  const key = { kind: 'ProxyCanary', namespace, name: 'debug' };
  for (let pass = 0; pass < 20_000; pass++) {
    // A Conflict (the watch brought an older version after a write) is reconciled again at once, as the controller does.
    const { requeueAfterMs } = await reconciler.reconcile(key, new AbortController().signal).catch((e: unknown) => {
      if (e instanceof Conflict) return { requeueAfterMs: 0 };
      throw e;
    });
    const status = (await store.get('ProxyCanary', namespace, 'debug'))?.status ?? {};
    if (['Promoted', 'RolledBack', 'Held', 'Invalid'].includes(status.phase ?? '')) {
      await events.flush();
      return status;
    }
    if (requeueAfterMs === 0) continue;
    const step = Math.max(1, Math.min(requeueAfterMs ?? 30_000, 30_000));
    clock.advance(step);
    w.tick(step, new Set([...(status.deploy?.proxies ?? []), ...(status.revert?.proxies ?? [])].filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name)));
  }
  throw new Error('the canary did not finish');
}

type StoredEvent = { involvedObject: Record<string, string>; reason: string; type: string; message: string; count: number };
const stored = async (namespace: string) => (await server.list('events', namespace)) as unknown as StoredEvent[];

test('a good build: started, deployed, passing verdicts (one Event, counted) and promoted, on the ProxyCanary', async () => {
  const status = await runToEnd('good', { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.005 } });
  assert.equal(status.phase, 'Promoted', status.message);
  const all = await stored('good');
  assert.ok(all.every((e) => e.involvedObject['kind'] === 'ProxyCanary' && e.involvedObject['name'] === 'debug' && e.involvedObject['namespace'] === 'good'));
  const of = (reason: string) => all.filter((e) => e.reason === reason);
  assert.deepEqual(of('CanaryStarted').map((e) => e.type), ['Normal']);
  assert.deepEqual(of('CanaryDeployed').map((e) => e.type), ['Normal']);
  const verdicts = of('CanaryVerdict');
  assert.deepEqual(verdicts.map((e) => [e.type, e.message]), [['Normal', 'Canary interval Pass']]);
  assert.equal(verdicts[0]?.count, status.intervals?.filter((i) => i.verdict === 'Pass').length);
  assert.deepEqual(of('CanaryPromoted').map((e) => [e.type, e.message]), [['Normal', 'Canary promoted: ProxyRollout good/debug-promote created']]);
  // The deploy run's proxy steps are on the canary too.
  assert.deepEqual(of('ProxyOutOfRotation').length, 2);
  assert.equal(all.filter((e) => e.type === 'Warning').length, 0);
});

test('a failing build: Warning verdicts naming the failing checks, then rolling back and rolled back', async () => {
  const status = await runToEnd('bad', { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.3 } });
  assert.equal(status.phase, 'RolledBack', status.message);
  const bad = await stored('bad');
  const of = (reason: string) => bad.filter((e) => e.reason === reason);
  assert.ok(of('CanaryVerdict').some((e) => e.type === 'Warning' && /^Canary interval Fail: failing .*connect-failure-ratio/.test(e.message)));
  assert.deepEqual(of('CanaryRollingBack').map((e) => [e.type, e.message]), [['Warning', `Canary rolling back: ${status.decision?.reason ?? ''}`]]);
  assert.deepEqual(of('CanaryRolledBack').map((e) => e.type), ['Warning']);
});
