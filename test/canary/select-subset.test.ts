import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyCanarySpec } from '../../src/model/canary.js';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { selectCanaryProxies } from '../../src/canary/core/select-subset.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';

function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  const extra = ['london-2', 'london-3'].map((name) => ({ name, region: 'london', publicUrl: `https://${name}.example.com`, diagnosticUrl: 'http://127.0.0.1:9', version: '17.4.2', labels: { canary: 'yes' } }));
  return { ...base, proxies: [...base.proxies, ...extra] };
}
const spec = (subset: ProxyCanarySpec['subset']): ProxyCanarySpec => ({ build: { version: '17.4.9-debug.1', debug: true }, subset });
const pick = (subset: ProxyCanarySpec['subset'], ready: (p: string) => boolean = () => true) => selectCanaryProxies(spec(subset), fleet(), ready);

test('one per region in fleet order, a percentage, named proxies, or labels', () => {
  assert.deepEqual(pick({ perRegion: 1 }), { ok: true, value: ['tokyo-1', 'london-1'] });
  assert.deepEqual(pick({ perRegion: 1, regions: ['london'] }), { ok: true, value: ['london-1'] });
  // 50% of london's three is one; of tokyo's two, one.
  assert.deepEqual(pick({ perRegion: '50%' }), { ok: true, value: ['tokyo-1', 'london-1'] });
  assert.deepEqual(pick({ proxies: ['london-2'] }), { ok: true, value: ['london-2'] });
  assert.deepEqual(pick({ matchLabels: { canary: 'yes' } }), { ok: true, value: ['london-2', 'london-3'] });
});

test('never the last ready proxy of a region; down proxies are not counted as spare', () => {
  // Three per region wanted: each region keeps one ready proxy back.
  assert.deepEqual(pick({ perRegion: 3 }), { ok: true, value: ['tokyo-1', 'london-1', 'london-2'] });
  // tokyo-2 is down: tokyo has one ready proxy, none to spare.
  assert.deepEqual(pick({ perRegion: 1 }, (p) => p !== 'tokyo-2'), { ok: true, value: ['london-1'] });
  const named = pick({ proxies: ['tokyo-1', 'tokyo-2'] });
  assert.deepEqual(named, { ok: false, error: [{ path: ['spec', 'subset'], message: 'takes every ready proxy of region "tokyo": its last ready proxy must stay on the current build' }] });
});

test('contradictory or empty subsets are refused, naming the field', () => {
  assert.deepEqual(pick({ perRegion: 1, proxies: ['tokyo-1'] }), { ok: false, error: [{ path: ['spec', 'subset'], message: 'give exactly one of proxies, perRegion or matchLabels' }] });
  assert.deepEqual(pick({ proxies: ['paris-1'] }), { ok: false, error: [{ path: ['spec', 'subset', 'proxies', 0], message: 'proxy "paris-1" is not in the fleet' }] });
  assert.deepEqual(pick({ matchLabels: { tier: 'gold' } }), { ok: false, error: [{ path: ['spec', 'subset', 'matchLabels'], message: 'no proxy of the fleet carries these labels' }] });
  assert.equal(pick({ perRegion: 1, regions: ['mars'] }).ok, false);
  assert.deepEqual(pick({ perRegion: 1 }, () => false), { ok: false, error: [{ path: ['spec', 'subset', 'perRegion'], message: 'no region has a ready proxy to spare: each keeps its last ready one' }] });
});
