import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxyObservation } from '../../../src/model/snapshot.js';
import { chooseProxy, type ChooseInput, type ClientLocation, type Decision } from '../../../src/redirect/core/choose-proxy.js';
import { explainChoice, type ExplainedRegion, type RegionVerdict } from '../../../src/redirect/core/explain-choice.js';
import type { CanaryRoute, RoutingTable } from '../../../src/redirect/core/routing-table.js';
import { CITIES, REGIONS, redirectFleet, regionsDown, table, url, type TableOptions } from './redirect-fixture.js';

const CANARY = 'debug-17-4-9';
const CANARY_PROXIES = ['tokyo-1', 'london-2'] as const;
const optIn = (proxies: readonly string[] = CANARY_PROXIES, name = CANARY): CanaryRoute => ({ name, proxies, optInOnly: true });
const normal = (proxies: readonly string[] = CANARY_PROXIES, name = CANARY): CanaryRoute => ({ name, proxies, optInOnly: false });

const withCanary = (o: TableOptions = {}, canary: CanaryRoute = optIn()): RoutingTable => table({ ...o, canaries: [canary] });
const proxyOf = (t: RoutingTable, name: string) => t.regions.flatMap((r) => r.proxies).find((p) => p.name === name);
const candidates = (t: RoutingTable, region: string) => t.byName[region]?.candidates.map((p) => p.name);
const choose = (t: RoutingTable, location: ClientLocation | undefined, extra: Partial<ChooseInput> = {}): Decision =>
  chooseProxy({ clientKey: '203.0.113.7', ...(location ? { location } : {}), ...extra }, t);
const down = (...names: string[]): Record<string, Partial<ProxyObservation>> => Object.fromEntries(names.map((n) => [n, { up: false, ready: false }]));
const full = (...names: string[]): Record<string, Partial<ProxyObservation>> => Object.fromEntries(names.map((n) => [n, { sessionsTotal: 500 }]));

describe('buildRoutingTable: canaries', () => {
  it('optInOnly: canary proxies get the state "canary" and are no ordinary candidates', () => {
    const t = withCanary();
    assert.equal(proxyOf(t, 'tokyo-1')?.state, 'canary');
    assert.equal(proxyOf(t, 'london-2')?.state, 'canary');
    assert.equal(proxyOf(t, 'tokyo-2')?.state, 'eligible');
    assert.deepEqual(candidates(t, 'tokyo'), ['tokyo-2', 'tokyo-3']);
    assert.deepEqual(candidates(t, 'london'), ['london-1', 'london-3']);
    assert.deepEqual(t.byName['tokyo']?.proxies.map((p) => p.name), ['tokyo-1', 'tokyo-2', 'tokyo-3'], 'explain output still lists them');
  });

  it('normal traffic: canary proxies stay ordinary candidates', () => {
    const t = withCanary({}, normal());
    assert.equal(proxyOf(t, 'tokyo-1')?.state, 'eligible');
    assert.deepEqual(candidates(t, 'tokyo'), ['tokyo-1', 'tokyo-2', 'tokyo-3']);
    assert.ok(t.canaries[CANARY], 'opted-in users still have the canary table');
  });

  it('the state "canary" wins over health and rotation in the ordinary table; the canary table keeps those', () => {
    const t = withCanary({ outOfRotation: ['london-2'], patch: down('tokyo-1') });
    assert.equal(proxyOf(t, 'tokyo-1')?.state, 'canary');
    assert.equal(proxyOf(t, 'london-2')?.state, 'canary');
    const c = t.canaries[CANARY];
    assert.ok(c);
    assert.equal(proxyOf(c, 'tokyo-1')?.state, 'down');
    assert.equal(proxyOf(c, 'london-2')?.state, 'out_of_rotation');
    assert.equal(c.available.length, 0);
  });

  it('region state follows from the proxies left to ordinary clients', () => {
    const cases: { name: string; o: TableOptions; canary: CanaryRoute; region: string; state: string }[] = [
      { name: 'the rest healthy: open', o: {}, canary: optIn(), region: 'tokyo', state: 'open' },
      { name: 'only canary proxies ready: no ready proxy', o: { patch: down('tokyo-2', 'tokyo-3') }, canary: optIn(), region: 'tokyo', state: 'no_ready_proxy' },
      { name: 'the rest full (the canary proxy not): saturated', o: { patch: full('tokyo-2', 'tokyo-3') }, canary: optIn(), region: 'tokyo', state: 'saturated' },
      { name: 'the rest out of rotation: out_of_rotation', o: { outOfRotation: ['tokyo-2', 'tokyo-3'] }, canary: optIn(), region: 'tokyo', state: 'out_of_rotation' },
      { name: 'every proxy a canary proxy: no proxies', o: {}, canary: optIn(['sydney-1', 'sydney-2']), region: 'sydney', state: 'no_proxies' },
      { name: 'every proxy a canary proxy, normal traffic: open', o: {}, canary: normal(['sydney-1', 'sydney-2']), region: 'sydney', state: 'open' },
    ];
    for (const c of cases) assert.equal(withCanary(c.o, c.canary).byName[c.region]?.state, c.state, c.name);
    assert.ok(!withCanary({}, optIn(['sydney-1', 'sydney-2'])).available.some((r) => r.name === 'sydney'));
  });

  it('each canary gets a table of the same fleet with only its proxies, the same observations and no pins', () => {
    const t = withCanary({ pins: { countries: { JP: 'london' } }, patch: { 'tokyo-1': { sessionsTotal: 42 } } });
    const c = t.canaries[CANARY];
    assert.ok(c);
    assert.deepEqual(c.regions.map((r) => r.name), REGIONS.map((r) => r.name));
    assert.deepEqual(c.regions.map((r) => [r.name, r.state, r.proxies.map((p) => p.name)]), [
      ['tokyo', 'open', ['tokyo-1']],
      ['sydney', 'no_proxies', []],
      ['london', 'open', ['london-2']],
      ['chicago', 'no_proxies', []],
      ['new-york', 'no_proxies', []],
      ['sao-paulo', 'no_proxies', []],
    ]);
    assert.equal(proxyOf(c, 'tokyo-1')?.sessions, 42);
    assert.equal(c.countryPins['JP'], undefined);
    assert.equal(c.defaultRegion, 'london');
    assert.deepEqual(Object.keys(c.canaries), []);
    assert.equal(t.canaries['__proto__'], undefined);
    assert.equal(t.canaries['toString'], undefined);
    assert.equal(t.canaries['other'], undefined);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(t.canaries) && Object.isFrozen(c.byName['tokyo']?.candidates));
  });

  it('without canaries: an empty lookup, and nothing else changes', () => {
    const t = table();
    assert.deepEqual(Object.keys(t.canaries), []);
    assert.ok(t.regions.flatMap((r) => r.proxies).every((p) => p.state === 'eligible'));
    assert.match(t.unavailableReason, /\(6 regions, 14 proxies\)$/);
  });

  it('ignores canary proxies the spec does not list, and says what is reserved when nothing is available', () => {
    const t = withCanary({ patch: regionsDown('tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo') }, optIn(['tokyo-1', 'ghost-1']));
    assert.deepEqual(t.canaries[CANARY]?.regions.flatMap((r) => r.proxies.map((p) => p.name)), ['tokyo-1']);
    assert.match(t.unavailableReason, /\(6 regions, 13 proxies, 1 more reserved for canaries\)$/);
  });
});

describe('chooseProxy: the canary rule', () => {
  interface Expect {
    /** The canary proxy; for an ordinary decision, the region (rendezvous hashing picks among its candidates). */
    readonly proxy?: string;
    readonly region?: string;
    readonly reason: string;
    readonly km?: number;
    readonly saturated?: boolean;
    readonly skipped?: unknown;
  }
  const check = (d: Decision, e: Expect) => {
    assert.equal(d.kind, 'proxy', JSON.stringify(d));
    if (d.kind !== 'proxy') return;
    if (e.proxy !== undefined) assert.equal(d.proxy, e.proxy, JSON.stringify(d));
    if (e.region !== undefined) assert.equal(d.region, e.region, JSON.stringify(d));
    if (e.reason !== 'canary') assert.ok(!(CANARY_PROXIES as readonly string[]).includes(d.proxy), `ordinary decision on a canary proxy: ${d.proxy}`);
    assert.ok(d.proxy.startsWith(`${d.region}-`));
    assert.equal(d.publicUrl, url(d.proxy));
    assert.equal(d.reason, e.reason);
    assert.equal(d.saturated, e.saturated ?? false);
    assert.deepEqual(d.skipped, e.skipped);
    if (e.km !== undefined) assert.ok(d.distanceKm !== undefined && Math.abs(d.distanceKm - e.km) <= e.km * 0.02, `distance ${d.distanceKm}, expected ~${e.km}`);
  };
  const cases: { name: string; t: () => RoutingTable; location?: ClientLocation; input?: Partial<ChooseInput>; expect: Expect }[] = [
    { name: 'Osaka → the canary proxy in tokyo', t: () => withCanary(), location: CITIES.osaka, expect: { proxy: 'tokyo-1', reason: 'canary', km: 396 } },
    { name: 'Paris → the canary proxy in london', t: () => withCanary(), location: CITIES.paris, expect: { proxy: 'london-2', reason: 'canary', km: 343 } },
    { name: 'Auckland → the nearest canary proxy (tokyo), though sydney is nearer', t: () => withCanary(), location: CITIES.auckland, expect: { proxy: 'tokyo-1', reason: 'canary' } },
    { name: 'location unknown → the default region\'s canary proxy', t: () => withCanary(), expect: { proxy: 'london-2', reason: 'canary' } },
    { name: 'location unknown, no canary proxy in the default region → the one nearest to it', t: () => withCanary({}, optIn(['sydney-1', 'tokyo-2'])), expect: { proxy: 'tokyo-2', reason: 'canary' } },
    { name: 'normal traffic: still the canary rule for opted-in users', t: () => withCanary({}, normal()), location: CITIES.osaka, expect: { proxy: 'tokyo-1', reason: 'canary' } },
    { name: 'the nearer canary proxy down → the next nearest', t: () => withCanary({ patch: down('tokyo-1') }), location: CITIES.osaka, expect: { proxy: 'london-2', reason: 'canary', km: 9500 } },
    { name: 'the nearer canary proxy full → the nearest with room', t: () => withCanary({ patch: full('tokyo-1') }), location: CITIES.osaka, expect: { proxy: 'london-2', reason: 'canary' } },
    { name: 'every canary proxy full → the nearest anyway, saturated', t: () => withCanary({ patch: full('tokyo-1', 'london-2') }), location: CITIES.osaka, expect: { proxy: 'tokyo-1', reason: 'canary', saturated: true } },
    { name: 'the canary outranks an override and pins', t: () => withCanary({ pins: { countries: { JP: 'sydney' } } }), location: CITIES.osaka, input: { regionOverride: 'chicago' }, expect: { proxy: 'tokyo-1', reason: 'canary' } },
    { name: 'the canary still takes opted-in users when no ordinary proxy is ready', t: () => withCanary({ patch: down(...redirectFleet().proxies.map((p) => p.name).filter((n) => n !== 'tokyo-1')) }, optIn(['tokyo-1'])), location: CITIES.paris, expect: { proxy: 'tokyo-1', reason: 'canary' } },
    {
      name: 'no ready canary proxy → the ordinary decision, never a canary proxy, with the skip noted',
      t: () => withCanary({ patch: down('tokyo-1', 'london-2') }),
      location: CITIES.osaka,
      expect: { region: 'tokyo', reason: 'nearest', skipped: [{ rule: 'canary', region: CANARY, why: 'no_ready_proxy' }] },
    },
    {
      name: 'every canary proxy out of rotation → ordinary, skipped as no ready proxy',
      t: () => withCanary({ outOfRotation: [...CANARY_PROXIES] }),
      location: CITIES.paris,
      expect: { region: 'london', reason: 'nearest', skipped: [{ rule: 'canary', region: CANARY, why: 'no_ready_proxy' }] },
    },
    {
      name: 'an unknown canary → ordinary, skipped as unknown',
      t: () => withCanary(),
      location: CITIES.osaka,
      input: { canary: 'other' },
      expect: { region: 'tokyo', reason: 'nearest', skipped: [{ rule: 'canary', region: 'other', why: 'unknown_canary' }] },
    },
    {
      name: 'canary skipped, then an override skipped: both noted in order',
      t: () => withCanary({ patch: { ...down('tokyo-1', 'london-2'), ...regionsDown('chicago') } }),
      location: CITIES.osaka,
      input: { regionOverride: 'chicago' },
      expect: { region: 'tokyo', reason: 'nearest', skipped: [{ rule: 'canary', region: CANARY, why: 'no_ready_proxy' }, { rule: 'override', region: 'chicago', why: 'no_ready_proxy' }] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => check(choose(c.t(), c.location, { canary: CANARY, ...c.input }), c.expect));
  }

  it('no canary proxy and no ordinary proxy ready: unavailable', () => {
    const d = choose(withCanary({ patch: regionsDown('tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo') }), CITIES.osaka, { canary: CANARY });
    assert.equal(d.kind, 'unavailable');
  });
});

describe('chooseProxy: users who did not opt in never reach a canary proxy under optInOnly', () => {
  // Every 5° of latitude and longitude, with and without country and continent codes, plus no location at all.
  const grid: (ClientLocation | undefined)[] = [undefined, { countryCode: 'JP', continentCode: 'AS' }, { countryCode: 'GB', continentCode: 'EU' }, { continentCode: 'EU' }];
  for (let lat = -85; lat <= 85; lat += 5) for (let lon = -180; lon < 180; lon += 5) grid.push({ latitude: lat, longitude: lon });
  for (const c of Object.values(CITIES)) grid.push(c);
  const reserved = new Set(['tokyo-1', 'tokyo-2', 'london-2', 'sydney-1', 'sydney-2', 'sao-paulo-1']);
  const canaries: CanaryRoute[] = [optIn(['tokyo-1', 'london-2', 'sydney-1']), optIn(['tokyo-2', 'sydney-2', 'sao-paulo-1'], 'another')];
  const fleets: { name: string; o: TableOptions }[] = [
    { name: 'healthy', o: {} },
    { name: 'with pins to canary regions', o: { pins: { countries: { JP: 'tokyo', AU: 'sydney' }, continents: { EU: 'london', AS: 'tokyo' } } } },
    { name: 'ordinary proxies of canary regions full', o: { patch: full('tokyo-3', 'london-1', 'london-3', 'sao-paulo-2') } },
    { name: 'ordinary proxies of canary regions down', o: { patch: down('tokyo-3', 'london-1', 'london-3') } },
    { name: 'everything full', o: { sessions: 600 } },
    { name: 'ordinary proxies down everywhere', o: { patch: down(...redirectFleet().proxies.map((p) => p.name).filter((n) => !reserved.has(n))) } },
  ];
  for (const f of fleets) {
    it(f.name, () => {
      const t = table({ ...f.o, canaries });
      let decided = 0;
      grid.forEach((location, i) => {
        for (const extra of [{}, { regionOverride: REGIONS[i % REGIONS.length]?.name }] as Partial<ChooseInput>[]) {
          const d = choose(t, location, { clientKey: `198.51.100.${i % 256}/${i}`, ...extra });
          if (d.kind === 'unavailable') continue;
          decided++;
          assert.ok(!reserved.has(d.proxy), `${JSON.stringify(location)} ${JSON.stringify(extra)} → ${d.proxy}`);
          assert.notEqual(d.reason, 'canary');
        }
      });
      if (f.name === 'ordinary proxies down everywhere') assert.equal(decided, 0);
      else assert.ok(decided > 4000, `${decided} decisions`);
    });
  }

  it('(not vacuous) the same clients do reach those proxies under normal traffic', () => {
    const t = table({ canaries: canaries.map((c) => ({ ...c, optInOnly: false })) });
    const reached = new Set<string>();
    grid.forEach((location, i) => {
      const d = choose(t, location, { clientKey: `198.51.100.${i % 256}/${i}` });
      if (d.kind === 'proxy' && reserved.has(d.proxy)) reached.add(d.proxy);
    });
    assert.deepEqual([...reached].sort(), [...reserved].sort());
  });
});

describe('explainChoice: the canary rule', () => {
  const verdicts = (regions: readonly ExplainedRegion[] | undefined): Record<string, RegionVerdict> => Object.fromEntries((regions ?? []).map((r) => [r.region, r.verdict]));

  it('shows the canary rule deciding, the canary table, and the canary proxies in the ordinary table', () => {
    const { decision, explanation } = explainChoice({ clientKey: 'k', location: CITIES.osaka, canary: CANARY }, withCanary());
    assert.equal(decision.kind === 'proxy' && decision.proxy, 'tokyo-1');
    assert.equal(explanation.canary, CANARY);
    assert.deepEqual(explanation.steps, [
      { rule: 'canary', outcome: 'chosen', canary: CANARY, region: 'tokyo', why: 'opted in to the canary: its nearest ready proxy' },
      { rule: 'override', outcome: 'not_applicable', why: 'no region asked for' },
      { rule: 'country_pin', outcome: 'not_applicable', why: 'no pin for country JP' },
      { rule: 'continent_pin', outcome: 'not_applicable', why: 'no pin for continent AS' },
      { rule: 'nearest', outcome: 'not_reached' },
      { rule: 'default_region', outcome: 'not_applicable', why: 'coordinates known' },
    ]);
    assert.deepEqual(verdicts(explanation.regions), { tokyo: 'chosen', sydney: 'canary_elsewhere', london: 'canary_elsewhere', chicago: 'canary_elsewhere', 'new-york': 'canary_elsewhere', 'sao-paulo': 'canary_elsewhere' });
    assert.deepEqual(explanation.regions[0]?.proxies.map((p) => [p.name, p.state, p.candidate]), [
      ['tokyo-1', 'canary', false],
      ['tokyo-2', 'eligible', true],
      ['tokyo-3', 'eligible', true],
    ]);
    assert.deepEqual(verdicts(explanation.canaryRegions), { tokyo: 'chosen', london: 'farther' });
    assert.deepEqual(explanation.canaryRegions?.[0]?.proxies, [{ name: 'tokyo-1', state: 'eligible', sessions: 100, capacity: 500, candidate: true }]);
  });

  it('shows the canary rule skipped, and why, from the canary table', () => {
    const { decision, explanation } = explainChoice({ clientKey: 'k', location: CITIES.osaka, canary: CANARY }, withCanary({ patch: down('tokyo-1'), outOfRotation: ['london-2'] }));
    assert.equal(decision.kind === 'proxy' && decision.reason, 'nearest');
    assert.deepEqual(explanation.steps[0], { rule: 'canary', outcome: 'skipped', canary: CANARY, why: 'no ready proxy of the canary; the ordinary rules decide' });
    assert.deepEqual(explanation.steps.find((s) => s.outcome === 'chosen'), { rule: 'nearest', outcome: 'chosen', region: 'tokyo', why: 'nearest region with a ready proxy' });
    assert.deepEqual(verdicts(explanation.canaryRegions), { tokyo: 'no_ready_proxy', london: 'out_of_rotation' });
    assert.deepEqual(explanation.canaryRegions?.map((r) => r.proxies.map((p) => p.state)), [['down'], ['out_of_rotation']]);
    assert.equal(verdicts(explanation.regions)['tokyo'], 'chosen');
  });

  it('an unknown canary is skipped as not running; no canary table', () => {
    const { explanation } = explainChoice({ clientKey: 'k', location: CITIES.paris, canary: 'other' }, withCanary());
    assert.deepEqual(explanation.steps[0], { rule: 'canary', outcome: 'skipped', canary: 'other', why: 'no such canary is running; the ordinary rules decide' });
    assert.equal(explanation.canaryRegions, undefined);
  });

  it('a client that did not opt in gets no canary step', () => {
    const { explanation } = explainChoice({ clientKey: 'k', location: CITIES.osaka }, withCanary());
    assert.equal(explanation.canary, undefined);
    assert.equal(explanation.canaryRegions, undefined);
    assert.deepEqual(explanation.steps.map((s) => s.rule), ['override', 'country_pin', 'continent_pin', 'nearest', 'default_region']);
  });

  it('carries exactly the decision chooseProxy makes, and is plain JSON', () => {
    const tables = [withCanary(), withCanary({ patch: down('tokyo-1', 'london-2') }), withCanary({ patch: full('tokyo-1') })];
    const inputs: ChooseInput[] = [
      ...Object.values(CITIES).map((location, i) => ({ clientKey: `c${i}`, location, canary: CANARY })),
      { clientKey: 'x', canary: CANARY },
      { clientKey: 'y', regionOverride: 'sydney', canary: CANARY },
      { clientKey: 'z', canary: 'other', location: CITIES.paris },
    ];
    for (const t of tables) {
      for (const input of inputs) {
        const e = explainChoice(input, t);
        assert.deepEqual(e.decision, chooseProxy(input, t));
        assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
      }
    }
  });
});
