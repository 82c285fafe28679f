import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseProxy } from '../../src/redirect/core/choose-proxy.js';
import { DecisionCache } from '../../src/redirect/decision-cache.js';
import type { RoutingTable } from '../../src/redirect/core/routing-table.js';
import { Prng } from '../../src/sim/prng.js';
import { CITIES, redirectFleet, regionsDown, table } from './core/redirect-fixture.js';

// Stands for a loaded GeoIP database: the cache only compares identities.
const GEO = {};

/** Offers a key twice: the second offer keeps it. */
function keep(cache: DecisionCache<string>, key: string, value: string): void {
  cache.set(key, value);
  cache.set(key, value);
}

describe('decision cache across routing table rebuilds', () => {
  it('a rebuild that changed only session counts keeps the key; one that changed a candidate, a state or a pin does not', () => {
    const base = table({ sessions: 100 });
    assert.equal(table({ sessions: 101 }).decisionKey, base.decisionKey, 'a session more');
    assert.notEqual(table({ patch: regionsDown('tokyo') }).decisionKey, base.decisionKey, 'a region down');
    assert.notEqual(table({ outOfRotation: ['tokyo-1'] }).decisionKey, base.decisionKey, 'a proxy out of rotation');
    assert.notEqual(table({ patch: { 'tokyo-1': { sessionsTotal: 500 } } }).decisionKey, base.decisionKey, 'a proxy at capacity');
    assert.notEqual(table({ patch: { 'tokyo-1': { sessionsTotal: 300 } } }).decisionKey, base.decisionKey, 'a proxy loaded past the tolerance leaves the candidates');
    assert.notEqual(table({ pins: { countries: { KR: 'london' } } }).decisionKey, base.decisionKey, 'a pin');
    assert.notEqual(table({ canaries: [{ name: 'debug', proxies: ['tokyo-1'], optInOnly: true }] }).decisionKey, base.decisionKey, 'a canary');
  });

  it('tables with the same key decide every client alike, over random loads per proxy', () => {
    const rng = new Prng(11);
    const names = redirectFleet().proxies.map((p) => p.name);
    // Half the tables vary loads within the load tolerance (same candidates), half well beyond it.
    const tables = Array.from({ length: 40 }, () => {
      const spread = rng.chance(0.5) ? 15 : 200;
      return table({ patch: Object.fromEntries(names.map((n) => [n, { sessionsTotal: 100 + rng.int(spread) }])) });
    });
    let same = 0;
    for (let i = 1; i < tables.length; i++) {
      const a = tables[i - 1] as RoutingTable;
      const b = tables[i] as RoutingTable;
      if (a.decisionKey !== b.decisionKey) continue;
      same++;
      for (const [name, location] of Object.entries(CITIES)) {
        for (let c = 0; c < 30; c++) {
          const input = { location, clientKey: `198.51.100.${c}` };
          assert.deepEqual(chooseProxy(input, b), chooseProxy(input, a), `${name} client ${c}`);
        }
      }
    }
    assert.ok(same > 0 && same < tables.length - 1, `${same} equal keys: both cases must occur`);
  });

  it('keeps a key the second time it is offered: one-off clients never enter', () => {
    const cache = new DecisionCache<string>(10);
    const t = table();
    cache.get(t, GEO, 'c');
    cache.set('c', 'tokyo-1');
    assert.equal(cache.get(t, GEO, 'c'), undefined, 'offered once');
    cache.set('d', 'london-1');
    cache.set('c', 'tokyo-1');
    assert.equal(cache.get(t, GEO, 'c'), 'tokyo-1', 'offered twice');
    assert.equal(cache.get(t, GEO, 'd'), undefined);
  });

  it('is bounded: it keeps at least the newer half of its entries, and the oldest go first', () => {
    const cache = new DecisionCache<string>(4);
    const t = table();
    cache.get(t, GEO, 'k0');
    for (let i = 0; i < 10; i++) keep(cache, `k${i}`, String(i));
    const kept = Array.from({ length: 10 }, (_, i) => cache.get(t, GEO, `k${i}`));
    assert.deepEqual(kept.slice(0, 6), Array<undefined>(6).fill(undefined), 'the oldest are gone');
    assert.deepEqual(kept.slice(8), ['8', '9'], 'the newest half is kept');
  });

  it('entries survive a new table with the same key and go with a changed one', () => {
    const cache = new DecisionCache<string>(10);
    const first = table({ sessions: 100 });
    assert.equal(cache.get(first, GEO, 'c'), undefined);
    keep(cache, 'c', 'tokyo-1');
    assert.equal(cache.get(table({ sessions: 120 }), GEO, 'c'), 'tokyo-1');
    assert.equal(cache.get(table({ patch: regionsDown('tokyo') }), GEO, 'c'), undefined);
  });

  it('entries go with a new GeoIP database, and not with the same one asked again', () => {
    const cache = new DecisionCache<string>(10);
    const t = table();
    cache.get(t, GEO, 'c');
    keep(cache, 'c', 'tokyo-1');
    assert.equal(cache.get(t, GEO, 'c'), 'tokyo-1');
    assert.equal(cache.get(t, {}, 'c'), undefined, 'a reloaded database');
    keep(cache, 'c', 'tokyo-2');
    assert.equal(cache.get(t, undefined, 'c'), undefined, 'no database');
  });
});
