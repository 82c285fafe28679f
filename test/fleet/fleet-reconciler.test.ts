import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createFleetReconciler } from '../../src/fleet/fleet-reconciler.js';
import { ManualClock } from '../helpers/manual-clock.js';
import type { FleetSnapshot } from '../../src/model/snapshot.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { observation, snapshot } from '../helpers/snapshot-fixture.js';

const key = { kind: 'ProxyFleet', namespace: 'default', name: 'demo' };
const signal = new AbortController().signal;

function setup() {
  const store = new MemoryStore();
  const clock = new ManualClock();
  let current: FleetSnapshot | undefined;
  const reconciler = createFleetReconciler({ store, clock, log: pino({ level: 'silent' }), snapshotOf: () => current });
  return { store, clock, reconciler, setSnapshot: (s: FleetSnapshot) => (current = s) };
}

test('writes status once, then passes with nothing new write nothing', async () => {
  const { store, clock, reconciler, setSnapshot } = setup();
  store.put(fleet());
  setSnapshot(snapshot([observation('tokyo-1', 'tokyo'), observation('tokyo-2', 'tokyo'), observation('london-1', 'london')]));
  assert.deepEqual(await reconciler.reconcile(key, signal), {});
  assert.equal((await store.get('ProxyFleet', 'default', 'demo'))?.status?.phase, 'Healthy');
  clock.advance(60_000);
  await reconciler.reconcile(key, signal);
  await reconciler.reconcile(key, signal);
  assert.equal(store.statusWrites, 1);
});

test('a change in what is observed flips the condition and its transition time', async () => {
  const { store, clock, reconciler, setSnapshot } = setup();
  store.put(fleet());
  setSnapshot(snapshot([observation('tokyo-1', 'tokyo'), observation('tokyo-2', 'tokyo'), observation('london-1', 'london')]));
  await reconciler.reconcile(key, signal);
  const before = (await store.get('ProxyFleet', 'default', 'demo'))?.status;
  clock.advance(30_000);
  setSnapshot(snapshot([observation('tokyo-1', 'tokyo'), observation('tokyo-2', 'tokyo'), observation('london-1', 'london', { ready: false })]));
  await reconciler.reconcile(key, signal);
  const after = (await store.get('ProxyFleet', 'default', 'demo'))?.status;
  const ready = after?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.notEqual(ready?.lastTransitionTime, before?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime);
  assert.equal(after?.phase, 'Degraded');
});

test('a missing fleet is done, not an error', async () => {
  const { reconciler } = setup();
  assert.deepEqual(await reconciler.reconcile(key, signal), {});
});
