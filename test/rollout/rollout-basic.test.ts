import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const windows = [{ days: ['Sat', 'Sun'] as ('Sat' | 'Sun')[], start: '02:00', duration: '4h' }];
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };

function demo(): ProxyFleetSpec {
  const base = fleetSpec();
  return {
    ...base,
    regions: base.regions.map((r) => ({ ...r, maintenanceWindows: windows })),
    proxies: [
      ...base.proxies,
      { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' },
    ].map((p) => ({ ...p, upgrade: hook })),
  };
}

test('a rollout upgrades every proxy inside its window, after every notice, one per region at a time', async () => {
  // Thursday 2026-01-01 00:00 UTC: the first windows (Sat 02:00 local) are more than 24 h ahead.
  const r = await runScenario({
    fleet: demo(),
    rollout: { version: '17.4.8', notice: { channels: [{ name: 'ops', type: 'webhook', url: 'https://notify.example.com' }] }, drain: { deadline: '30m' } },
    startAt: Date.UTC(2026, 0, 1),
    sessions: () => 120,
  });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.deepEqual(
    r.status.proxies?.map((p) => [p.name, p.step]),
    [['tokyo-1', 'Done'], ['tokyo-2', 'Done'], ['london-1', 'Done'], ['london-2', 'Done']],
  );
  for (const p of r.world.proxies.values()) assert.equal(p.version, '17.4.8');
  // Three lead times (24h, 1h, 10m) for each of the two regions, on one channel.
  assert.equal(new Set(r.world.notices.map((n) => n.id)).size, 6);
  assert.equal(r.status.sessionsCut, r.status.proxies?.reduce((n, p) => n + (p.sessionsCut ?? 0), 0));
});
