import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxyObservation } from '../../../src/model/snapshot.js';
import { chooseProxy, type ChooseInput, type ClientLocation, type Decision, type DecisionReason, type SkippedRule } from '../../../src/redirect/core/choose-proxy.js';
import type { RedirectPins } from '../../../src/model/fleet.js';
import type { RoutingTable } from '../../../src/redirect/core/routing-table.js';
import { CITIES, redirectFleet, regionsDown, regionsFull, table, url, type TableOptions } from './redirect-fixture.js';

const KEY = '203.0.113.7';

function choose(t: RoutingTable, location: ClientLocation | undefined, extra: Partial<ChooseInput> = {}): Decision {
  return chooseProxy({ clientKey: KEY, ...(location ? { location } : {}), ...extra }, t);
}

interface Expect {
  readonly region: string;
  readonly reason: DecisionReason;
  readonly proxy?: string;
  readonly saturated?: boolean;
  readonly skipped?: readonly SkippedRule[];
  /** Approximate distance, ±2%. */
  readonly km?: number;
}

function check(d: Decision, e: Expect): void {
  assert.equal(d.kind, 'proxy', JSON.stringify(d));
  if (d.kind !== 'proxy') return;
  assert.equal(d.region, e.region, JSON.stringify(d));
  assert.equal(d.reason, e.reason, JSON.stringify(d));
  assert.ok(d.proxy.startsWith(`${e.region}-`), d.proxy);
  assert.equal(d.publicUrl, url(d.proxy));
  if (e.proxy !== undefined) assert.equal(d.proxy, e.proxy);
  assert.equal(d.saturated, e.saturated ?? false);
  assert.deepEqual(d.skipped, e.skipped);
  if (e.km !== undefined) {
    assert.ok(d.distanceKm !== undefined && Math.abs(d.distanceKm - e.km) <= e.km * 0.02, `distance ${d.distanceKm}, expected ~${e.km}`);
  }
}

interface Case {
  readonly name: string;
  readonly table?: TableOptions;
  readonly location?: ClientLocation;
  readonly input?: Partial<ChooseInput>;
  readonly expect: Expect | { readonly unavailable: RegExp };
}

function run(cases: readonly Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const d = choose(table(c.table), c.location, c.input);
      if ('unavailable' in c.expect) {
        assert.equal(d.kind, 'unavailable', JSON.stringify(d));
        if (d.kind === 'unavailable') assert.match(d.reason, c.expect.unavailable);
      } else check(d, c.expect);
    });
  }
}

describe('chooseProxy: nearest region', () => {
  run([
    { name: 'Osaka → tokyo', location: CITIES.osaka, expect: { region: 'tokyo', reason: 'nearest', km: 396 } },
    { name: 'Seoul → tokyo', location: CITIES.seoul, expect: { region: 'tokyo', reason: 'nearest', km: 1153 } },
    { name: 'Paris → london', location: CITIES.paris, expect: { region: 'london', reason: 'nearest', km: 343 } },
    { name: 'Toronto → new-york (550 km, chicago 701 km)', location: CITIES.toronto, expect: { region: 'new-york', reason: 'nearest', km: 550 } },
    { name: 'Boston → new-york', location: CITIES.boston, expect: { region: 'new-york', reason: 'nearest', km: 306 } },
    { name: 'Buenos Aires → sao-paulo', location: CITIES.buenosAires, expect: { region: 'sao-paulo', reason: 'nearest', km: 1675 } },
    { name: 'Auckland → sydney', location: CITIES.auckland, expect: { region: 'sydney', reason: 'nearest', km: 2156 } },
    { name: 'Lagos → london (5013 km, sao-paulo 6374 km)', location: CITIES.lagos, expect: { region: 'london', reason: 'nearest', km: 5013 } },
    { name: 'coordinates alone, no codes', location: { latitude: 35.0, longitude: 135.0 }, expect: { region: 'tokyo', reason: 'nearest' } },
  ]);
});

describe('chooseProxy: eligibility', () => {
  run([
    { name: 'tokyo out of rotation → Osaka to sydney', table: { outOfRotation: ['tokyo-1', 'tokyo-2', 'tokyo-3'] }, location: CITIES.osaka, expect: { region: 'sydney', reason: 'nearest', km: 7797 } },
    { name: 'tokyo not ready → sydney', table: { patch: { 'tokyo-1': { ready: false }, 'tokyo-2': { ready: false }, 'tokyo-3': { ready: false } } }, location: CITIES.osaka, expect: { region: 'sydney', reason: 'nearest' } },
    { name: 'tokyo down → sydney', table: { patch: regionsDown('tokyo') }, location: CITIES.osaka, expect: { region: 'sydney', reason: 'nearest' } },
    { name: 'tokyo never observed → sydney', table: { patch: { 'tokyo-1': null, 'tokyo-2': null, 'tokyo-3': null } }, location: CITIES.osaka, expect: { region: 'sydney', reason: 'nearest' } },
    { name: 'tokyo with no proxies in spec → sydney', table: { spec: { ...redirectFleet(), proxies: redirectFleet().proxies.filter((p) => p.region !== 'tokyo') } }, location: CITIES.osaka, expect: { region: 'sydney', reason: 'nearest' } },
    {
      name: 'only tokyo-3 left (1 out of rotation, 2 down) → tokyo-3',
      table: { outOfRotation: ['tokyo-1'], patch: { 'tokyo-2': { up: false, ready: false } } },
      location: CITIES.osaka,
      expect: { region: 'tokyo', reason: 'nearest', proxy: 'tokyo-3' },
    },
    { name: 'tokyo saturated → spill over to sydney', table: { patch: regionsFull('tokyo') }, location: CITIES.osaka, expect: { region: 'sydney', reason: 'spillover', km: 7797 } },
    { name: 'tokyo and sydney saturated → london', table: { patch: { ...regionsFull('tokyo'), ...regionsFull('sydney') } }, location: CITIES.osaka, expect: { region: 'london', reason: 'spillover' } },
    { name: 'tokyo down, sydney saturated → spill over to london', table: { patch: { ...regionsDown('tokyo'), ...regionsFull('sydney') } }, location: CITIES.osaka, expect: { region: 'london', reason: 'spillover' } },
    {
      name: 'every region saturated → nearest anyway, saying so',
      table: { sessions: 600 },
      location: CITIES.osaka,
      expect: { region: 'tokyo', reason: 'all_saturated', saturated: true },
    },
    { name: 'every region down → unavailable', table: { patch: regionsDown('tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo') }, location: CITIES.osaka, expect: { unavailable: /no ready proxy in rotation in any region/ } },
    { name: 'every proxy out of rotation → unavailable', table: { outOfRotation: redirectFleet().proxies.map((p) => p.name) }, location: CITIES.paris, expect: { unavailable: /any region/ } },
    { name: 'no proxies at all → unavailable', table: { spec: { ...redirectFleet(), proxies: [] } }, location: undefined, expect: { unavailable: /6 regions, 0 proxies/ } },
    {
      name: 'everything unavailable beats an override',
      table: { patch: regionsDown('tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo') },
      location: CITIES.osaka,
      input: { regionOverride: 'tokyo' },
      expect: { unavailable: /any region/ },
    },
  ]);
});

describe('chooseProxy: override', () => {
  run([
    { name: 'valid override beats distance', location: CITIES.osaka, input: { regionOverride: 'sydney' }, expect: { region: 'sydney', reason: 'override', km: 7797 } },
    { name: 'override without a location', location: undefined, input: { regionOverride: 'chicago' }, expect: { region: 'chicago', reason: 'override' } },
    {
      name: 'unknown region → normal rules, saying so',
      location: CITIES.osaka,
      input: { regionOverride: 'mars' },
      expect: { region: 'tokyo', reason: 'nearest', skipped: [{ rule: 'override', region: 'mars', why: 'unknown_region' }] },
    },
    {
      name: 'region down → normal rules, saying so',
      table: { patch: regionsDown('sydney') },
      location: CITIES.osaka,
      input: { regionOverride: 'sydney' },
      expect: { region: 'tokyo', reason: 'nearest', skipped: [{ rule: 'override', region: 'sydney', why: 'no_ready_proxy' }] },
    },
    {
      name: 'region out of rotation → normal rules, saying so',
      table: { outOfRotation: ['sydney-1', 'sydney-2'] },
      location: CITIES.osaka,
      input: { regionOverride: 'sydney' },
      expect: { region: 'tokyo', reason: 'nearest', skipped: [{ rule: 'override', region: 'sydney', why: 'out_of_rotation' }] },
    },
    {
      name: 'saturated region: the user asked for it, so honoured',
      table: { patch: regionsFull('sydney') },
      location: CITIES.osaka,
      input: { regionOverride: 'sydney' },
      expect: { region: 'sydney', reason: 'override', saturated: true },
    },
    {
      name: 'prototype key is just an unknown region',
      location: CITIES.osaka,
      input: { regionOverride: '__proto__' },
      expect: { region: 'tokyo', reason: 'nearest', skipped: [{ rule: 'override', region: '__proto__', why: 'unknown_region' }] },
    },
  ]);
});

describe('chooseProxy: pins', () => {
  const pins: RedirectPins = { countries: { KR: 'sydney', nz: 'tokyo', AR: 'chicago' }, continents: { SA: 'new-york', AS: 'london', AF: 'atlantis' } };
  run([
    { name: 'country pin (Seoul KR → sydney)', table: { pins }, location: CITIES.seoul, expect: { region: 'sydney', reason: 'country_pin', km: 8330 } },
    { name: 'pin key given in lower case (nz)', table: { pins }, location: CITIES.auckland, expect: { region: 'tokyo', reason: 'country_pin' } },
    { name: 'client code in lower case', table: { pins }, location: { ...CITIES.seoul, countryCode: 'kr' }, expect: { region: 'sydney', reason: 'country_pin' } },
    { name: 'continent pin (Buenos Aires is AR → chicago: country beats continent)', table: { pins }, location: CITIES.buenosAires, expect: { region: 'chicago', reason: 'country_pin' } },
    { name: 'continent pin (Brazil, SA → new-york)', table: { pins }, location: { latitude: -23.5, longitude: -46.6, countryCode: 'BR', continentCode: 'SA' }, expect: { region: 'new-york', reason: 'continent_pin' } },
    { name: 'continent pin (Osaka, AS → london)', table: { pins }, location: CITIES.osaka, expect: { region: 'london', reason: 'continent_pin', km: 9500 } },
    { name: 'no pin applies → nearest', table: { pins }, location: CITIES.paris, expect: { region: 'london', reason: 'nearest' } },
    { name: 'country only, no coordinates', table: { pins }, location: { countryCode: 'KR' }, expect: { region: 'sydney', reason: 'country_pin' } },
    { name: 'override beats pins', table: { pins }, location: CITIES.seoul, input: { regionOverride: 'tokyo' }, expect: { region: 'tokyo', reason: 'override' } },
    {
      name: 'country pin down → continent pin',
      table: { pins, patch: regionsDown('sydney') },
      location: CITIES.seoul,
      expect: { region: 'london', reason: 'continent_pin', skipped: [{ rule: 'country_pin', region: 'sydney', why: 'no_ready_proxy' }] },
    },
    {
      name: 'both pins down → distance',
      table: { pins, patch: regionsDown('sydney', 'london') },
      location: CITIES.seoul,
      expect: {
        region: 'tokyo',
        reason: 'nearest',
        skipped: [
          { rule: 'country_pin', region: 'sydney', why: 'no_ready_proxy' },
          { rule: 'continent_pin', region: 'london', why: 'no_ready_proxy' },
        ],
      },
    },
    {
      name: 'pin to an unknown region → distance',
      table: { pins },
      location: CITIES.lagos,
      expect: { region: 'london', reason: 'nearest', skipped: [{ rule: 'continent_pin', region: 'atlantis', why: 'unknown_region' }] },
    },
    {
      name: 'country pin down, no coordinates → continent pin',
      table: { pins, patch: regionsDown('sydney') },
      location: { countryCode: 'KR', continentCode: 'as' },
      expect: { region: 'london', reason: 'continent_pin', skipped: [{ rule: 'country_pin', region: 'sydney', why: 'no_ready_proxy' }] },
    },
    {
      name: 'pin down, no continent pin, no coordinates → default region',
      table: { pins: { countries: { KR: 'sydney' } }, patch: regionsDown('sydney') },
      location: { countryCode: 'KR' },
      expect: { region: 'london', reason: 'default_region', skipped: [{ rule: 'country_pin', region: 'sydney', why: 'no_ready_proxy' }] },
    },
    { name: 'saturated pinned region is still used (residency outranks capacity)', table: { pins, patch: regionsFull('sydney') }, location: CITIES.seoul, expect: { region: 'sydney', reason: 'country_pin', saturated: true } },
    {
      name: 'override down and pin down → distance, both noted',
      table: { pins, patch: regionsDown('chicago', 'sydney') },
      location: CITIES.seoul,
      input: { regionOverride: 'chicago' },
      expect: {
        region: 'london',
        reason: 'continent_pin',
        skipped: [
          { rule: 'override', region: 'chicago', why: 'no_ready_proxy' },
          { rule: 'country_pin', region: 'sydney', why: 'no_ready_proxy' },
        ],
      },
    },
  ]);
});

describe('chooseProxy: unknown location', () => {
  const noDefault = redirectFleet();
  run([
    { name: 'no location → default region', location: undefined, expect: { region: 'london', reason: 'default_region' } },
    { name: 'country only, no pin → default region', location: { countryCode: 'ZZ' }, expect: { region: 'london', reason: 'default_region' } },
    { name: 'NaN coordinates → default region', location: { latitude: NaN, longitude: 10 }, expect: { region: 'london', reason: 'default_region' } },
    { name: 'out-of-range coordinates → default region', location: { latitude: 123, longitude: 10 }, expect: { region: 'london', reason: 'default_region' } },
    {
      name: 'default down → the region nearest to it',
      table: { patch: regionsDown('london') },
      location: undefined,
      expect: { region: 'new-york', reason: 'default_fallback', skipped: [{ rule: 'default_region', region: 'london', why: 'no_ready_proxy' }] },
    },
    {
      name: 'default saturated → the open region nearest to it',
      table: { patch: { ...regionsFull('london'), ...regionsDown('new-york') } },
      location: undefined,
      expect: { region: 'chicago', reason: 'default_fallback', skipped: [{ rule: 'default_region', region: 'london', why: 'saturated' }] },
    },
    { name: 'all saturated → default anyway', table: { sessions: 900 }, location: undefined, expect: { region: 'london', reason: 'all_saturated', saturated: true } },
    {
      name: 'no region flagged default → the first',
      table: { spec: { ...noDefault, regions: noDefault.regions.map(({ default: _d, ...r }) => r) } },
      location: undefined,
      expect: { region: 'tokyo', reason: 'default_region' },
    },
  ]);
});

describe('chooseProxy: within a region', () => {
  const tokyo = (loads: [number, number, number], extra: Partial<ProxyObservation> = {}): TableOptions => ({
    patch: { 'tokyo-1': { sessionsTotal: loads[0], ...extra }, 'tokyo-2': { sessionsTotal: loads[1] }, 'tokyo-3': { sessionsTotal: loads[2] } },
  });
  const keys = Array.from({ length: 300 }, (_, i) => `198.51.100.${i}`);
  const pick = (t: RoutingTable, key: string): string => {
    const d = chooseProxy({ clientKey: key, location: CITIES.osaka }, t);
    return d.kind === 'proxy' ? d.proxy : 'unavailable';
  };

  it('same client, same proxy, across calls and rebuilt tables', () => {
    const a = table(tokyo([100, 100, 100]));
    const b = table(tokyo([100, 100, 100]));
    for (const k of keys) {
      const first = pick(a, k);
      assert.equal(pick(a, k), first);
      assert.equal(pick(b, k), first);
    }
  });

  it('equal loads spread clients over every proxy', () => {
    const t = table(tokyo([100, 100, 100]));
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(pick(t, k), (counts.get(pick(t, k)) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), ['tokyo-1', 'tokyo-2', 'tokyo-3']);
    for (const n of counts.values()) assert.ok(n > 60 && n < 140, `uneven: ${[...counts.values()].join(', ')}`);
  });

  it('small load changes on another proxy reshuffle no one', () => {
    const before = table(tokyo([100, 105, 110]));
    const after = table(tokyo([100, 113, 104]));
    for (const k of keys) assert.equal(pick(after, k), pick(before, k), k);
  });

  it('a client moves only when its own proxy becomes ineligible; the others stay', () => {
    const before = table(tokyo([100, 100, 100]));
    const cases: { name: string; after: RoutingTable }[] = [
      { name: 'out of rotation', after: table({ ...tokyo([100, 100, 100]), outOfRotation: ['tokyo-1'] }) },
      { name: 'not ready', after: table(tokyo([100, 100, 100], { ready: false })) },
      { name: 'down', after: table(tokyo([100, 100, 100], { up: false, ready: false })) },
      { name: 'full', after: table(tokyo([500, 100, 100])) },
    ];
    for (const c of cases) {
      let moved = 0;
      for (const k of keys) {
        const was = pick(before, k);
        const now = pick(c.after, k);
        if (was === 'tokyo-1') {
          assert.notEqual(now, 'tokyo-1', `${c.name}: ${k} still on tokyo-1`);
          assert.ok(now.startsWith('tokyo-'), now);
          moved++;
        } else assert.equal(now, was, `${c.name}: ${k} moved off ${was}`);
      }
      assert.ok(moved > 0, `${c.name}: no client was on tokyo-1`);
    }
  });

  it('a much less loaded proxy takes everyone', () => {
    const t = table(tokyo([300, 10, 400]));
    for (const k of keys) assert.equal(pick(t, k), 'tokyo-2');
  });

  it('a full proxy gets no one while another has room, even if less loaded ones are far behind', () => {
    const spec = redirectFleet();
    const small = { ...spec, proxies: spec.proxies.map((p) => (p.name === 'tokyo-1' ? { ...p, capacity: 50 } : p)) };
    const t = table({ spec: small, ...tokyo([50, 300, 300]) });
    for (const k of keys) assert.notEqual(pick(t, k), 'tokyo-1');
  });
});

describe('chooseProxy: invariant over many fleet states', () => {
  it('never picks a proxy that is out of rotation, down, not ready or unobserved; always its configured URL', () => {
    // Deterministic LCG: the same 400 fleets every run.
    let seed = 42;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const spec = redirectFleet();
    const locations: (ClientLocation | undefined)[] = [...Object.values(CITIES), undefined, { countryCode: 'KR' }];
    for (let round = 0; round < 400; round++) {
      const patch: Record<string, Partial<ProxyObservation> | null> = {};
      const outOfRotation: string[] = [];
      for (const p of spec.proxies) {
        const r = rand();
        if (r < 0.1) patch[p.name] = { up: false, ready: false };
        else if (r < 0.2) patch[p.name] = { ready: false };
        else if (r < 0.25) patch[p.name] = null;
        else if (r < 0.35) outOfRotation.push(p.name);
        else patch[p.name] = { sessionsTotal: Math.floor(rand() * 700) };
      }
      const t = table({ patch, outOfRotation, pins: { countries: { KR: 'sydney' } } });
      const ok = new Set(t.regions.flatMap((r) => r.proxies).filter((p) => p.state === 'eligible' || p.state === 'full').map((p) => p.name));
      const roomy = new Set(t.regions.flatMap((r) => r.proxies).filter((p) => p.state === 'eligible').map((p) => p.name));
      for (const location of locations) {
        for (const regionOverride of [undefined, 'chicago']) {
          const d = chooseProxy({ clientKey: `k${round}`, ...(location ? { location } : {}), ...(regionOverride ? { regionOverride } : {}) }, t);
          if (d.kind === 'unavailable') {
            assert.equal(ok.size, 0, 'unavailable while a proxy could serve');
            continue;
          }
          assert.ok(ok.has(d.proxy), `round ${round}: picked ${d.proxy}`);
          assert.equal(d.publicUrl, spec.proxies.find((p) => p.name === d.proxy)?.publicUrl);
          assert.equal(d.saturated, !roomy.has(d.proxy));
          if (d.reason === 'nearest' || d.reason === 'spillover' || d.reason === 'default_region' || d.reason === 'default_fallback') assert.ok(roomy.has(d.proxy));
        }
      }
    }
  });
});
