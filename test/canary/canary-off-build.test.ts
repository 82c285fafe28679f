import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canaryRouteProxies, proxiesOnBuild } from '../../src/canary/core/canary-runs.js';
import { metrics, observation } from '../helpers/snapshot-fixture.js';
import { BUILD, canary, runCanary } from './helpers/run-canary.js';

const GOOD = { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.005 } };

test('a canary proxy moved off the build while it bakes is marked, no longer routed to, and left out of the analysis', async () => {
  let movedAt = '';
  const r = await runCanary(canary(), GOOD, {
    afterPass: (st, world) => {
      if (movedAt || st.phase !== 'Baking') return;
      // Something else (a rollout, a reset) restarts london-1 on another version.
      world.crashRestart('london-1', { version: '17.4.2' });
      movedAt = 'yes';
    },
  });
  assert.equal(r.status.phase, 'Promoted', r.status.message);
  assert.deepEqual(r.status.offBuild?.map((o) => [o.proxy, o.version]), [['london-1', '17.4.2']]);
  const stored = await r.store.get('ProxyCanary', 'default', 'debug');
  assert.ok(stored);
  assert.deepEqual(proxiesOnBuild(stored), ['tokyo-1']);
  // The intervals after the move judge tokyo-1 alone.
  const last = r.status.intervals?.at(-1);
  assert.deepEqual([...new Set(last?.outcomes.map((o) => o.proxy))], ['tokyo-1']);
});

test('every canary proxy off the build: the canary is held for the operator, saying why', async () => {
  let moved = false;
  const r = await runCanary(canary(), GOOD, {
    afterPass: (st, world) => {
      if (moved || st.phase !== 'Baking') return;
      for (const p of ['tokyo-1', 'london-1']) world.crashRestart(p, { version: '17.4.8' });
      moved = true;
    },
  });
  assert.equal(r.status.phase, 'Held', r.status.message);
  assert.equal(r.status.decision?.reason, `no canary proxy runs ${BUILD} any more (tokyo-1 runs 17.4.8, london-1 runs 17.4.8)`);
});

test('the routing of invitees leaves out a canary proxy the latest observation shows off the build, before the canary marks it', () => {
  const c = canary();
  const deployed = { ...c, status: { phase: 'Baking' as const, proxies: ['tokyo-1', 'london-1'], deploy: { proxies: ['tokyo-1', 'london-1'].map((name) => ({ name, region: name.split('-')[0] ?? '', wave: 0, step: 'Done' as const })) } } };
  const seen = (london: string) => [observation('tokyo-1', 'tokyo', { metrics: metrics({ version: BUILD }) }), observation('london-1', 'london', { metrics: metrics({ version: london }) })];
  assert.deepEqual(canaryRouteProxies(deployed, seen(BUILD)), ['tokyo-1', 'london-1']);
  assert.deepEqual(canaryRouteProxies(deployed, seen('17.4.2')), ['tokyo-1']);
  // Down: what it runs is not known now; the mark (if any) decides.
  assert.deepEqual(canaryRouteProxies(deployed, [observation('london-1', 'london', { up: false, metrics: metrics({ version: '17.4.2' }) })]), ['tokyo-1', 'london-1']);
  assert.deepEqual(canaryRouteProxies({ ...deployed, status: { ...deployed.status, offBuild: [{ proxy: 'london-1', version: '17.4.2', since: '2026-01-05T00:00:00.000Z' }] } }, []), ['tokyo-1']);
});
