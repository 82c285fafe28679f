import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutStatus } from '../../src/model/rollout.js';
import { createRolloutReconciler } from '../../src/rollout/rollout-reconciler.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[], start: '00:00', duration: '24h' }];
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };

function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  const london2 = { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' };
  return { ...base, regions: base.regions.map((r) => ({ ...r, maintenanceWindows: always })), proxies: [...base.proxies, london2].map((p) => ({ ...p, upgrade: hook })) };
}

const drifted = (st: ProxyRolloutStatus) => st.conditions?.find((c) => c.type === 'Drifted');

test('a completed rollout whose proxies were reset to the old version says so after a controller restart, and clears once they run the target again', async () => {
  const r = await runScenario({ fleet: fleet(), rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } }, startAt: Date.UTC(2026, 0, 1), sessions: () => 10 });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.equal(r.status.message, 'All 4 proxies run 17.4.8');
  assert.equal(drifted(r.status)?.status, 'False');

  // The cluster is reset behind Meridian's back, and the controller restarts (nothing in memory).
  for (const name of ['tokyo-1', 'tokyo-2', 'london-1', 'london-2']) r.world.crashRestart(name, { version: '17.4.2' });
  r.clock.advance(60_000);
  r.world.tick(60_000, new Set());
  const fresh = createRolloutReconciler({ store: r.store, clock: r.clock, log: pino({ level: 'silent' }), snapshotOf: () => r.world.snapshot(), sendNotice: r.world.sendNotice, runHook: r.world.runHook });
  const key = { kind: 'ProxyRollout', namespace: 'default', name: 'upgrade' };
  const signal = new AbortController().signal;
  const read = async () => (await r.store.get('ProxyRollout', 'default', 'upgrade'))?.status ?? {};

  await fresh.reconcile(key, signal);
  const after = await read();
  assert.equal(after.phase, 'Completed');
  assert.deepEqual([drifted(after)?.status, drifted(after)?.reason], ['True', 'VersionDrift']);
  assert.equal(drifted(after)?.message, '4 proxies no longer run 17.4.8: tokyo-1 runs 17.4.2, tokyo-2 runs 17.4.2, london-1 runs 17.4.2, london-2 runs 17.4.2');
  assert.equal(after.message, '0 of 4 proxies run 17.4.8; no longer on it since the rollout: tokyo-1 (runs 17.4.2), tokyo-2 (runs 17.4.2), london-1 (runs 17.4.2), london-2 (runs 17.4.2)');
  assert.deepEqual(after.proxies?.map((p) => [p.name, p.step, p.driftedTo]), [['tokyo-1', 'Done', '17.4.2'], ['tokyo-2', 'Done', '17.4.2'], ['london-1', 'Done', '17.4.2'], ['london-2', 'Done', '17.4.2']]);
  // Nothing is touched: a finished rollout reports, it does not start again.
  assert.equal(r.world.hooks.filter((h) => h.at > Date.parse(after.finishedAt ?? '')).length, 0);

  // The same world again: the status is not written again.
  const writes = r.store.writes;
  await fresh.reconcile(key, signal);
  assert.equal(r.store.writes, writes);

  // Two proxies are brought back to the target: they leave the list; all four, and the condition clears.
  r.world.crashRestart('tokyo-1', { version: '17.4.8' });
  r.world.crashRestart('london-1', { version: '17.4.8' });
  await fresh.reconcile(key, signal);
  assert.equal(drifted(await read())?.message, '2 proxies no longer run 17.4.8: tokyo-2 runs 17.4.2, london-2 runs 17.4.2');
  r.world.crashRestart('tokyo-2', { version: '17.4.8' });
  r.world.crashRestart('london-2', { version: '17.4.8' });
  await fresh.reconcile(key, signal);
  const back = await read();
  assert.deepEqual([drifted(back)?.status, back.message], ['False', 'All 4 proxies run 17.4.8']);
  assert.equal(back.proxies?.some((p) => p.driftedTo !== undefined), false);
});

test('a completed rollout keeps what it knew of a proxy it cannot see (down, or before the first observation)', async () => {
  const r = await runScenario({ fleet: fleet(), rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } }, startAt: Date.UTC(2026, 0, 1), sessions: () => 10 });
  r.world.crashRestart('tokyo-1', { version: '17.4.2' });
  let snapshot = r.world.snapshot();
  const reconciler = createRolloutReconciler({ store: r.store, clock: r.clock, log: pino({ level: 'silent' }), snapshotOf: () => snapshot, sendNotice: r.world.sendNotice, runHook: r.world.runHook });
  const key = { kind: 'ProxyRollout', namespace: 'default', name: 'upgrade' };
  await reconciler.reconcile(key, new AbortController().signal);
  // tokyo-1 stops answering: its last metrics stay in the observation, but nothing is known of it now.
  snapshot = { ...snapshot, proxies: snapshot.proxies.map((o) => (o.name === 'tokyo-1' ? { ...o, up: false, consecutiveFailures: 3 } : o)) };
  await reconciler.reconcile(key, new AbortController().signal);
  snapshot = { ...snapshot, proxies: [] };
  await reconciler.reconcile(key, new AbortController().signal);
  const st = (await r.store.get('ProxyRollout', 'default', 'upgrade'))?.status ?? {};
  assert.equal(drifted(st)?.message, '1 proxy no longer runs 17.4.8: tokyo-1 runs 17.4.2');
});
