import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canaryClaims } from '../../src/canary/core/canary-runs.js';
import type { ProxyCanary } from '../../src/model/canary.js';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { API_VERSION } from '../../src/model/resource.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[], start: '00:00', duration: '24h' }];
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const BUILD = '17.4.9-debug.1';

function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  const london2 = { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' };
  return { ...base, regions: base.regions.map((r) => ({ ...r, maintenanceWindows: always })), proxies: [...base.proxies, london2].map((p) => ({ ...p, upgrade: hook })) };
}

function canary(phase: NonNullable<ProxyCanary['status']>['phase'], proxies: string[]): ProxyCanary {
  return { apiVersion: API_VERSION, kind: 'ProxyCanary', metadata: { name: 'debug', namespace: 'default' }, spec: { build: { version: BUILD }, subset: { proxies } }, status: { phase, proxies } };
}

test('a follow-the-sun rollout leaves the proxies of a live canary on its build, skipped with the reason, and upgrades the rest', async () => {
  const claims = canaryClaims([canary('Baking', ['tokyo-1', 'london-1'])]);
  let deployed = false;
  const r = await runScenario(
    { fleet: fleet(), rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } }, startAt: Date.UTC(2026, 0, 1), sessions: () => 10, claimedByCanaries: () => claims },
    undefined,
    {
      // The canary's build is on its proxies from the first pass on.
      async afterPass(_st, _store, { world }) {
        if (deployed) return;
        deployed = true;
        for (const p of ['tokyo-1', 'london-1']) world.crashRestart(p, { version: BUILD, sessions: 10 });
      },
    },
  );
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.deepEqual(
    r.status.proxies?.map((p) => [p.name, p.step]),
    [['tokyo-1', 'Skipped'], ['tokyo-2', 'Done'], ['london-1', 'Skipped'], ['london-2', 'Done']],
  );
  assert.equal(r.status.proxies?.find((p) => p.name === 'tokyo-1')?.message, `Skipped: canary default/debug (build ${BUILD}, Baking) holds it`);
  assert.match(r.status.message ?? '', /^2 of 4 proxies run 17\.4\.8; skipped: tokyo-1 \(canary default\/debug/);
  assert.deepEqual([r.world.proxies.get('tokyo-1')?.version, r.world.proxies.get('london-1')?.version], [BUILD, BUILD]);
  assert.equal(r.world.hooks.filter((h) => ['tokyo-1', 'london-1'].includes(h.req.proxy.name)).length, 0, 'nothing touched the canary proxies');
});

test('only a live canary holds its proxies: one rolling back, rolled back or promoted does not', () => {
  for (const phase of ['Deploying', 'Baking', 'Held', 'Promoting'] as const) assert.deepEqual([...canaryClaims([canary(phase, ['tokyo-1'])]).keys()], ['tokyo-1'], phase);
  for (const phase of ['Pending', 'RollingBack', 'RolledBack', 'Promoted', 'Invalid'] as const) assert.equal(canaryClaims([canary(phase, ['tokyo-1'])]).size, 0, phase);
});
