import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseProxy, type ChooseInput } from '../../../src/redirect/core/choose-proxy.js';
import { renderExplanation } from '../../../src/cli/explain-text.js';
import { explainChoice, type ExplainedRegion, type RegionVerdict } from '../../../src/redirect/core/explain-choice.js';
import { CITIES, regionsDown, regionsFull, table } from './redirect-fixture.js';

const verdicts = (regions: readonly ExplainedRegion[]): Record<string, RegionVerdict> => Object.fromEntries(regions.map((r) => [r.region, r.verdict]));

describe('explainChoice', () => {
  it('lists regions nearest first with distances and why each was passed over', () => {
    const t = table({ outOfRotation: ['tokyo-1', 'tokyo-2', 'tokyo-3'], patch: regionsFull('sydney') });
    const { decision, explanation } = explainChoice({ clientKey: 'k', location: CITIES.osaka }, t);
    assert.equal(decision.kind === 'proxy' && decision.region, 'london');
    assert.equal(decision.kind === 'proxy' && decision.reason, 'spillover');
    assert.deepEqual(explanation.regions.map((r) => r.region), ['tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo']);
    assert.deepEqual(verdicts(explanation.regions), { tokyo: 'out_of_rotation', sydney: 'saturated', london: 'chosen', chicago: 'farther', 'new-york': 'farther', 'sao-paulo': 'farther' });
    assert.deepEqual(explanation.regions.map((r) => Math.round(r.distanceKm ?? -1)), [396, 7797, 9500, 10434, 11104, 18759]);
    assert.equal(explanation.coordinatesUsed, true);
    assert.deepEqual(explanation.location, CITIES.osaka);
    const tokyo = explanation.regions[0];
    assert.deepEqual(tokyo?.proxies.map((p) => [p.name, p.state, p.candidate]), [
      ['tokyo-1', 'out_of_rotation', false],
      ['tokyo-2', 'out_of_rotation', false],
      ['tokyo-3', 'out_of_rotation', false],
    ]);
    assert.deepEqual(explanation.steps, [
      { rule: 'override', outcome: 'not_applicable', why: 'no region asked for' },
      { rule: 'country_pin', outcome: 'not_applicable', why: 'no pin for country JP' },
      { rule: 'continent_pin', outcome: 'not_applicable', why: 'no pin for continent AS' },
      { rule: 'nearest', outcome: 'chosen', region: 'london', why: 'nearer regions are at capacity' },
      { rule: 'default_region', outcome: 'not_applicable', why: 'coordinates known' },
    ]);
  });

  it('shows proxy states and candidates within a region', () => {
    const t = table({ outOfRotation: ['tokyo-1'], patch: { 'tokyo-2': { ready: false }, 'tokyo-3': { sessionsTotal: 42 } } });
    const { explanation } = explainChoice({ clientKey: 'k', location: CITIES.osaka }, t);
    assert.deepEqual(explanation.regions[0]?.proxies, [
      { name: 'tokyo-1', state: 'out_of_rotation', sessions: 100, capacity: 500, candidate: false },
      { name: 'tokyo-2', state: 'not_ready', sessions: 100, capacity: 500, candidate: false },
      { name: 'tokyo-3', state: 'eligible', sessions: 42, capacity: 500, candidate: true },
    ]);
  });

  it('override and pins: the others are "overridden" or "pinned elsewhere"', () => {
    const pins = { countries: { KR: 'sydney' } };
    const o = explainChoice({ clientKey: 'k', location: CITIES.seoul, regionOverride: 'chicago' }, table({ pins }));
    assert.equal(verdicts(o.explanation.regions)['tokyo'], 'overridden');
    assert.equal(verdicts(o.explanation.regions)['chicago'], 'chosen');
    assert.deepEqual(o.explanation.steps.slice(0, 2), [
      { rule: 'override', outcome: 'chosen', region: 'chicago', why: 'region asked for explicitly' },
      { rule: 'country_pin', outcome: 'not_reached', region: 'sydney' },
    ]);

    const p = explainChoice({ clientKey: 'k', location: CITIES.seoul, regionOverride: 'chicago' }, table({ pins, patch: regionsDown('chicago') }));
    assert.deepEqual(verdicts(p.explanation.regions), { tokyo: 'pinned_elsewhere', sydney: 'chosen', london: 'pinned_elsewhere', chicago: 'no_ready_proxy', 'new-york': 'pinned_elsewhere', 'sao-paulo': 'pinned_elsewhere' });
    assert.deepEqual(p.explanation.steps.slice(0, 2), [
      { rule: 'override', outcome: 'skipped', region: 'chicago', why: 'no ready proxy in the region' },
      { rule: 'country_pin', outcome: 'chosen', region: 'sydney', why: 'country pinned to this region' },
    ]);
  });

  it('unknown location: ordered from the default region, no distances', () => {
    const { decision, explanation } = explainChoice({ clientKey: 'k' }, table({ patch: regionsDown('london') }));
    assert.equal(decision.kind === 'proxy' && decision.reason, 'default_fallback');
    assert.equal(explanation.coordinatesUsed, false);
    assert.equal(explanation.location, undefined);
    assert.equal(explanation.defaultRegion, 'london');
    assert.deepEqual(explanation.regions.map((r) => [r.region, r.verdict]), [
      ['london', 'no_ready_proxy'],
      ['new-york', 'chosen'],
      ['chicago', 'farther'],
      ['sao-paulo', 'farther'],
      ['tokyo', 'farther'],
      ['sydney', 'farther'],
    ]);
    assert.ok(explanation.regions.every((r) => r.distanceKm === undefined));
    assert.deepEqual(explanation.steps.at(-1), { rule: 'default_region', outcome: 'chosen', region: 'new-york', why: 'location unknown and the default region unavailable; nearest to it' });
  });

  it('a country but no coordinates: pins apply, else the default region says what was known', () => {
    const location = { countryCode: 'AU', continentCode: 'OC' };
    const pinned = explainChoice({ clientKey: 'k', location }, table({ pins: { continents: { OC: 'tokyo' } } }));
    assert.equal(pinned.decision.kind === 'proxy' && pinned.decision.reason, 'continent_pin');
    assert.deepEqual(pinned.explanation.steps.find((s) => s.outcome === 'chosen'), { rule: 'continent_pin', outcome: 'chosen', region: 'tokyo', why: 'continent pinned to this region' });

    const unpinned = explainChoice({ clientKey: 'k', location }, table());
    assert.equal(unpinned.decision.kind === 'proxy' && unpinned.decision.reason, 'default_region');
    assert.equal(unpinned.explanation.coordinatesUsed, false);
    assert.deepEqual(unpinned.explanation.steps.slice(1), [
      { rule: 'country_pin', outcome: 'not_applicable', why: 'no pin for country AU' },
      { rule: 'continent_pin', outcome: 'not_applicable', why: 'no pin for continent OC' },
      { rule: 'nearest', outcome: 'not_applicable', why: 'coordinates unknown' },
      { rule: 'default_region', outcome: 'chosen', region: 'london', why: 'no coordinates, only country AU and continent OC' },
    ]);
    const fallback = explainChoice({ clientKey: 'k', location: { countryCode: 'AU' } }, table({ patch: regionsDown('london') }));
    assert.equal(fallback.explanation.steps.at(-1)?.why, 'no coordinates, only country AU, and the default region unavailable; nearest to it');
  });

  it('nothing available: every region says why', () => {
    const t = table({ patch: regionsDown('tokyo', 'sydney', 'london', 'chicago', 'new-york'), outOfRotation: ['sao-paulo-1', 'sao-paulo-2'] });
    const { decision, explanation } = explainChoice({ clientKey: 'k', location: CITIES.paris }, t);
    assert.equal(decision.kind, 'unavailable');
    assert.equal(verdicts(explanation.regions)['sao-paulo'], 'out_of_rotation');
    assert.equal(verdicts(explanation.regions)['london'], 'no_ready_proxy');
    assert.equal(explanation.steps.find((s) => s.rule === 'nearest')?.outcome, 'skipped');
  });

  it('always carries exactly the decision chooseProxy makes', () => {
    const t = table({ pins: { continents: { SA: 'new-york' } }, patch: { ...regionsFull('tokyo'), ...regionsDown('london') } });
    const inputs: ChooseInput[] = [
      ...Object.values(CITIES).map((location, i) => ({ clientKey: `c${i}`, location })),
      { clientKey: 'x' },
      { clientKey: 'y', regionOverride: 'sydney' },
      { clientKey: 'z', regionOverride: 'london', location: CITIES.paris },
    ];
    for (const input of inputs) assert.deepEqual(explainChoice(input, t).decision, chooseProxy(input, t));
  });

  it('is plain JSON', () => {
    const r = explainChoice({ clientKey: 'k', location: CITIES.toronto }, table());
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });
});

describe('explainChoice: the proxy within the region', () => {
  const t = table({ patch: { 'tokyo-1': { sessionsTotal: 100 }, 'tokyo-2': { sessionsTotal: 110 }, 'tokyo-3': { sessionsTotal: 300 } } });
  const pick = (proxy: string) => {
    for (let i = 0; i < 100; i++) {
      const e = explainChoice({ clientKey: `198.51.100.${i}`, location: CITIES.osaka }, t);
      if (e.decision.kind === 'proxy' && e.decision.proxy === proxy) return e;
    }
    throw new Error(`no client went to ${proxy}`);
  };

  it('a proxy that is not the least loaded: the load-tolerance rule with its figures', () => {
    const e = pick('tokyo-2');
    assert.deepEqual(e.explanation.proxyChoice, {
      region: 'tokyo',
      proxy: 'tokyo-2',
      candidates: ['tokyo-1', 'tokyo-2'],
      loadUnknown: [],
      leastLoaded: { proxy: 'tokyo-1', sessions: 100 },
      toleranceLimit: 120,
      why: 'not the least loaded: tokyo-1 has 100 sessions, tokyo-2 110; the load tolerance lets proxies with up to 100 + max(20, 10% of 100) = 120 sessions share clients, by a hash of the client address',
    });
    assert.match(renderExplanation('198.51.100.1', e), /^Proxy: tokyo-2, not the least loaded: tokyo-1 has 100 sessions, tokyo-2 110; the load tolerance lets proxies with up to 100 \+ max\(20, 10% of 100\) = 120 sessions/m);
  });

  it('the least-loaded proxy says so, and how many share the clients', () => {
    const e = pick('tokyo-1');
    assert.equal(e.explanation.proxyChoice?.why, 'least loaded in tokyo (100 sessions); 2 candidates (tokyo-1, tokyo-2) share clients by a hash of the client address');
  });
});
