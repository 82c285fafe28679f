import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseProxy } from '../../src/redirect/core/choose-proxy.js';
import { DecisionCache } from '../../src/redirect/decision-cache.js';
import { CITIES, regionsDown, table } from './core/redirect-fixture.js';

describe('decision cache across routing table rebuilds', () => {
  it('a rebuild that changed only session counts keeps the key; one that changed a candidate, a state or a pin does not', () => {
    const base = table({ sessions: 100 });
    assert.equal(table({ sessions: 101 }).decisionKey, base.decisionKey, 'a session more');
    assert.notEqual(table({ patch: regionsDown('tokyo') }).decisionKey, base.decisionKey, 'a region down');
    assert.notEqual(table({ draining: ['tokyo-1'] }).decisionKey, base.decisionKey, 'a proxy draining');
    assert.notEqual(table({ patch: { 'tokyo-1': { sessionsTotal: 500 } } }).decisionKey, base.decisionKey, 'a proxy at capacity');
    assert.notEqual(table({ pins: { countries: { KR: 'london' } } }).decisionKey, base.decisionKey, 'a pin');
    assert.notEqual(table({ canaries: [{ name: 'debug', proxies: ['tokyo-1'], optInOnly: true }] }).decisionKey, base.decisionKey, 'a canary');
  });

  it('every client gets the same decision from two tables with the same key', () => {
    const a = table({ sessions: 100 });
    const b = table({ sessions: 140 });
    assert.equal(a.decisionKey, b.decisionKey);
    for (const [name, location] of Object.entries(CITIES)) {
      for (let i = 0; i < 50; i++) {
        const input = { location, clientKey: `198.51.100.${i}` };
        assert.deepEqual(chooseProxy(input, b), chooseProxy(input, a), `${name} client ${i}`);
      }
    }
  });

  it('entries survive a new table with the same key and go with a changed one', () => {
    const cache = new DecisionCache<string>(10);
    const first = table({ sessions: 100 });
    assert.equal(cache.get(first, 'c'), undefined);
    cache.set('c', 'tokyo-1');
    assert.equal(cache.get(table({ sessions: 120 }), 'c'), 'tokyo-1');
    assert.equal(cache.get(table({ patch: regionsDown('tokyo') }), 'c'), undefined);
  });
});
