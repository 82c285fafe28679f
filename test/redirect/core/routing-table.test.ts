import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRoutingTable, type ProxyState, type RegionState } from '../../../src/redirect/core/routing-table.js';
import { fleetSnapshot, redirectFleet, regionsDown, table } from './redirect-fixture.js';

const stateOf = (t: ReturnType<typeof table>, proxy: string): ProxyState | undefined =>
  t.regions.flatMap((r) => r.proxies).find((p) => p.name === proxy)?.state;

describe('buildRoutingTable: proxy eligibility', () => {
  const cases: { name: string; t: () => ReturnType<typeof table>; state: ProxyState }[] = [
    { name: 'up, ready, below capacity', t: () => table(), state: 'eligible' },
    { name: 'at capacity', t: () => table({ patch: { 'tokyo-1': { sessionsTotal: 500 } } }), state: 'full' },
    { name: 'above capacity', t: () => table({ patch: { 'tokyo-1': { sessionsTotal: 720 } } }), state: 'full' },
    { name: 'out of rotation (even though ready)', t: () => table({ outOfRotation: ['tokyo-1'] }), state: 'out_of_rotation' },
    { name: 'out of rotation and down: the operator\'s word is reported', t: () => table({ outOfRotation: ['tokyo-1'], patch: { 'tokyo-1': { up: false } } }), state: 'out_of_rotation' },
    { name: 'down (last scrape failed)', t: () => table({ patch: { 'tokyo-1': { up: false, ready: false } } }), state: 'down' },
    { name: 'up but /readyz not 200', t: () => table({ patch: { 'tokyo-1': { ready: false, readyzStatus: 503 } } }), state: 'not_ready' },
    { name: 'down but still ready (a first scrape timeout, given one cycle of grace)', t: () => table({ patch: { 'tokyo-1': { up: false, ready: true, consecutiveFailures: 1 } } }), state: 'eligible' },
    { name: 'never observed', t: () => table({ patch: { 'tokyo-1': null } }), state: 'not_observed' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(stateOf(c.t(), 'tokyo-1'), c.state));

  it('a proxy without capacity is never full', () => {
    const spec = redirectFleet();
    const noCap = { ...spec, proxies: spec.proxies.map(({ capacity: _c, ...p }) => p) };
    const t = table({ spec: noCap, sessions: 100_000 });
    assert.ok(t.regions.every((r) => r.state === 'open'));
  });

  it('bad session counts count as zero', () => {
    const t = table({ patch: { 'tokyo-1': { sessionsTotal: NaN }, 'tokyo-2': { sessionsTotal: -4 } } });
    assert.deepEqual(t.byName['tokyo']?.proxies.map((p) => p.sessions), [0, 0, 100]);
  });
});

describe('buildRoutingTable: region state', () => {
  const spec = redirectFleet();
  const empty = { ...spec, proxies: spec.proxies.filter((p) => p.region !== 'tokyo') };
  const cases: { name: string; t: () => ReturnType<typeof table>; state: RegionState }[] = [
    { name: 'healthy', t: () => table(), state: 'open' },
    { name: 'one proxy full, others not', t: () => table({ patch: { 'tokyo-1': { sessionsTotal: 500 } } }), state: 'open' },
    { name: 'every eligible proxy full', t: () => table({ patch: { 'tokyo-1': { sessionsTotal: 500 }, 'tokyo-2': { sessionsTotal: 501 }, 'tokyo-3': { up: false, ready: false } } }), state: 'saturated' },
    { name: 'no proxies in spec', t: () => table({ spec: empty }), state: 'no_proxies' },
    { name: 'all down', t: () => table({ patch: regionsDown('tokyo') }), state: 'no_ready_proxy' },
    { name: 'ready ones all out of rotation', t: () => table({ outOfRotation: ['tokyo-1', 'tokyo-2'], patch: { 'tokyo-3': { ready: false } } }), state: 'out_of_rotation' },
    { name: 'out-of-rotation ones down too: no ready proxy', t: () => table({ outOfRotation: ['tokyo-1', 'tokyo-2', 'tokyo-3'], patch: regionsDown('tokyo') }), state: 'no_ready_proxy' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(c.t().byName['tokyo']?.state, c.state));

  it('lists only open and saturated regions as available', () => {
    const t = table({ patch: regionsDown('tokyo', 'chicago') });
    assert.deepEqual(t.available.map((r) => r.name), ['sydney', 'london', 'new-york', 'sao-paulo']);
  });
});

describe('buildRoutingTable: candidates (least loaded within tolerance)', () => {
  const cases: { name: string; loads: [number, number, number]; capacity?: number; expect: string[] }[] = [
    { name: 'equal loads: all', loads: [100, 100, 100], expect: ['tokyo-1', 'tokyo-2', 'tokyo-3'] },
    { name: 'within 20 sessions of the least', loads: [100, 120, 121], expect: ['tokyo-1', 'tokyo-2'] },
    { name: 'a much less loaded proxy alone', loads: [300, 10, 400], expect: ['tokyo-2'] },
    { name: 'within 10% when that is more than 20', loads: [1000, 1100, 1101], capacity: 5000, expect: ['tokyo-1', 'tokyo-2'] },
    { name: 'full proxies are not candidates while others have room', loads: [0, 499, 500], expect: ['tokyo-1'] },
    { name: 'saturated: the least loaded of the full ones', loads: [520, 500, 700], expect: ['tokyo-1', 'tokyo-2'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const base = redirectFleet();
      const spec = c.capacity ? { ...base, proxies: base.proxies.map((p) => ({ ...p, capacity: c.capacity })) } : base;
      const t = table({ spec, patch: { 'tokyo-1': { sessionsTotal: c.loads[0] }, 'tokyo-2': { sessionsTotal: c.loads[1] }, 'tokyo-3': { sessionsTotal: c.loads[2] } } });
      assert.deepEqual(t.byName['tokyo']?.candidates.map((p) => p.name), c.expect);
    });
  }

  it('tolerance is configurable', () => {
    const t = table({ loadTolerance: { ratio: 0, sessions: 0 }, patch: { 'tokyo-1': { sessionsTotal: 101 } } });
    assert.deepEqual(t.byName['tokyo']?.candidates.map((p) => p.name), ['tokyo-2', 'tokyo-3']);
  });
});

describe('buildRoutingTable: defaults, pins, immutability', () => {
  it('default region is the one flagged, then the others nearest to it', () => {
    const t = table({ patch: regionsDown('new-york') });
    assert.equal(t.defaultRegion, 'london');
    assert.deepEqual(t.defaultOrder.map((r) => r.name), ['london', 'chicago', 'sao-paulo', 'tokyo', 'sydney']);
  });

  it('without a flagged default, the first region', () => {
    const spec = redirectFleet();
    const t = table({ spec: { ...spec, regions: spec.regions.map(({ default: _d, ...r }) => r) } });
    assert.equal(t.defaultRegion, 'tokyo');
    assert.equal(t.defaultOrder[0]?.name, 'tokyo');
  });

  it('upper-cases pin codes and keeps lookups free of prototype keys', () => {
    const t = table({ pins: { countries: { jp: 'tokyo' }, continents: { eu: 'london' } } });
    assert.equal(t.countryPins['JP'], 'tokyo');
    assert.equal(t.continentPins['EU'], 'london');
    assert.equal(t.countryPins['__proto__'], undefined);
    assert.equal(t.byName['constructor'], undefined);
    assert.equal(t.byName['toString'], undefined);
  });

  it('is frozen all the way down', () => {
    const t = table();
    assert.ok(Object.isFrozen(t));
    assert.ok(Object.isFrozen(t.regions));
    assert.ok(Object.isFrozen(t.byName));
    assert.ok(Object.isFrozen(t.byName['tokyo']?.candidates));
    assert.ok(Object.isFrozen(t.byName['tokyo']?.proxies[0]));
    assert.throws(() => {
      (t.regions as unknown as unknown[]).push({});
    }, TypeError);
  });

  it('does not change its inputs', () => {
    const spec = redirectFleet();
    const snap = fleetSnapshot(spec);
    const before = JSON.stringify({ spec, snap });
    buildRoutingTable(spec, snap, { outOfRotation: new Set(['tokyo-1']) });
    assert.equal(JSON.stringify({ spec, snap }), before);
    assert.ok(!Object.isFrozen(spec.proxies), 'the caller\'s spec is not frozen by the table');
  });

  it('ignores observations of proxies the spec does not list', () => {
    const spec = redirectFleet();
    const snap = fleetSnapshot(spec);
    const t = buildRoutingTable(spec, { ...snap, proxies: [...snap.proxies, { ...snap.proxies[0]!, name: 'ghost-1', region: 'tokyo' }] }, { outOfRotation: new Set() });
    assert.deepEqual(t.byName['tokyo']?.proxies.map((p) => p.name), ['tokyo-1', 'tokyo-2', 'tokyo-3']);
  });
});
