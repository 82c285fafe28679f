import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeFleetStatus } from '../../src/fleet/core/fleet-status.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { observation, snapshot } from '../helpers/snapshot-fixture.js';

const NOW = '2026-01-01T00:00:10.000Z';

test('without a snapshot of this generation the fleet is Pending with Unknown conditions', () => {
  const s = computeFleetStatus(fleet(undefined, 2), snapshot([], 1), NOW);
  assert.equal(s.phase, 'Pending');
  assert.equal(s.observedGeneration, 2);
  assert.deepEqual(s.conditions?.map((c) => [c.type, c.status]), [['Observed', 'Unknown'], ['Ready', 'Unknown']]);
});

test('all proxies ready: Healthy, per-region counts and sessions', () => {
  const s = computeFleetStatus(fleet(), snapshot([observation('tokyo-1', 'tokyo'), observation('tokyo-2', 'tokyo'), observation('london-1', 'london')]), NOW);
  assert.equal(s.phase, 'Healthy');
  assert.equal(s.readyProxies, 3);
  assert.deepEqual(s.regions, [
    { name: 'tokyo', proxies: 2, ready: 2 },
    { name: 'london', proxies: 1, ready: 1 },
  ]);
  assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
});

test('a region with no ready proxy makes Ready False naming the region', () => {
  const s = computeFleetStatus(
    fleet(),
    snapshot([observation('tokyo-1', 'tokyo'), observation('tokyo-2', 'tokyo'), observation('london-1', 'london', { ready: false, readyzStatus: 503 })]),
    NOW,
  );
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  assert.equal(s.phase, 'Degraded');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'RegionWithoutReadyProxy');
  assert.match(ready?.message ?? '', /london/);
});

test('a proxy that cannot be scraped makes Observed False naming it', () => {
  const s = computeFleetStatus(
    fleet(),
    snapshot([observation('tokyo-1', 'tokyo', { up: false, ready: false, error: { reason: 'timeout', message: 'timed out', at: NOW } }), observation('tokyo-2', 'tokyo'), observation('london-1', 'london')]),
    NOW,
  );
  const observed = s.conditions?.find((c) => c.type === 'Observed');
  assert.equal(observed?.status, 'False');
  assert.match(observed?.message ?? '', /tokyo-1/);
  assert.equal(s.phase, 'Degraded');
});
