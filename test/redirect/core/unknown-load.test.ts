import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxyObservation } from '../../../src/model/snapshot.js';
import { chooseProxy } from '../../../src/redirect/core/choose-proxy.js';
import { explainChoice } from '../../../src/redirect/core/explain-choice.js';
import { renderExplanation } from '../../../src/cli/explain-text.js';
import { CITIES, table } from './redirect-fixture.js';

const AT = '2026-01-01T00:00:00.000Z';

/** /readyz said 200, but /metrics was a load balancer's HTML page: never read, so no metrics and 0 in sessionsTotal. */
const unreadable = (reason: 'content_type' | 'too_large' | 'parse_error' = 'content_type'): Partial<ProxyObservation> => ({
  up: false,
  ready: true,
  readyzStatus: 200,
  consecutiveFailures: 3,
  metrics: undefined,
  sessionsTotal: 0,
  error: { reason, message: `http://10.0.0.1:3000/metrics: ${reason}`, at: AT },
});

const clients = Array.from({ length: 200 }, (_, i) => `198.51.100.${i}`);
const chosenBy = (t: ReturnType<typeof table>): Set<string> =>
  new Set(clients.map((clientKey) => chooseProxy({ clientKey, location: CITIES.osaka }, t)).map((d) => (d.kind === 'proxy' ? d.proxy : 'none')));

describe('unknown load is not zero load', () => {
  for (const reason of ['content_type', 'too_large', 'parse_error'] as const) {
    it(`a ready proxy whose metrics are unreadable (${reason}) takes no client while its region has proxies of known load`, () => {
      const t = table({ patch: { 'tokyo-1': unreadable(reason) } });
      assert.deepEqual(t.byName['tokyo']?.candidates.map((p) => p.name), ['tokyo-2', 'tokyo-3']);
      assert.deepEqual([...chosenBy(t)].sort(), ['tokyo-2', 'tokyo-3']);
    });
  }

  it('stale metrics kept from an earlier scrape do not count as a known load either', () => {
    const t = table({ patch: { 'tokyo-1': { ...unreadable(), sessionsTotal: 3, metrics: undefined } } });
    assert.equal(chosenBy(t).has('tokyo-1'), false);
  });

  it('a page with a skipped session sample leaves that load unknown', () => {
    const t = table({ patch: { 'tokyo-1': { sessionsTotal: 0 } } });
    const base = t.byName['tokyo']?.proxies[0];
    assert.equal(base?.loadKnown, true);
    const skipped = table({
      patch: {
        'tokyo-1': {
          sessionsTotal: 0,
          metrics: {
            processState: 'ok', version: '17.4.2', sessions: { ssh: 0, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 }, tunnels: {}, missingTunnels: 0,
            connectAttempts: 0, connectFailures: 0, connectionLimitExceeded: 0, sessionKindsSkipped: ['db'],
          },
        },
      },
    });
    assert.equal(chosenBy(skipped).has('tokyo-1'), false);
  });

  it('when no proxy of the region has a known load, they share its clients, and the decision says so', () => {
    const t = table({ patch: { 'tokyo-1': unreadable(), 'tokyo-2': unreadable(), 'tokyo-3': { up: false, ready: false } } });
    assert.equal(t.byName['tokyo']?.state, 'open');
    assert.deepEqual([...chosenBy(t)].sort(), ['tokyo-1', 'tokyo-2']);
    const d = chooseProxy({ clientKey: 'k', location: CITIES.osaka }, t);
    assert.equal(d.kind === 'proxy' && d.loadUnknown, true);
    const known = chooseProxy({ clientKey: 'k', location: CITIES.osaka }, table());
    assert.equal(known.kind === 'proxy' && 'loadUnknown' in known, false);
  });

  it('explain-redirect shows unknown sessions (not 0) and why a proxy of unknown load was chosen', () => {
    const t = table({ patch: { 'tokyo-1': unreadable(), 'tokyo-2': unreadable(), 'tokyo-3': { up: false, ready: false } } });
    const e = explainChoice({ clientKey: 'k', location: CITIES.osaka }, t);
    assert.deepEqual(e.explanation.regions[0]?.proxies.map((p) => [p.name, p.sessions, p.candidate]), [
      ['tokyo-1', null, true],
      ['tokyo-2', null, true],
      ['tokyo-3', null, false],
    ]);
    assert.match(e.explanation.proxyChoice?.why ?? '', /^load unknown \(metrics page not read\): no proxy of tokyo that can take the client has a known load/);
    const text = renderExplanation('133.11.0.7', e);
    assert.match(text, /tokyo-1 +eligible +load unknown \/ 500  candidate/);
    assert.match(text, /^Proxy: tokyo-\d, load unknown/m);
  });

  it('explain-redirect names a proxy passed over for an unknown load', () => {
    const t = table({ patch: { 'tokyo-1': unreadable() } });
    const e = explainChoice({ clientKey: 'k', location: CITIES.osaka }, t);
    assert.deepEqual(e.explanation.proxyChoice?.loadUnknown, ['tokyo-1']);
    assert.match(e.explanation.proxyChoice?.why ?? '', /passed over for an unknown load: tokyo-1$/);
  });

  it('a candidate moving between known and unknown load changes the decision key', () => {
    const all = (p: Partial<ProxyObservation>) => ({ 'sydney-1': p, 'sydney-2': p });
    const known = table();
    const unknown = table({ patch: all(unreadable()) });
    // Same candidates by name either way (two proxies, both taken), but the decisions differ by the flag.
    assert.deepEqual(unknown.byName['sydney']?.candidates.map((p) => p.name), known.byName['sydney']?.candidates.map((p) => p.name));
    assert.notEqual(unknown.decisionKey, known.decisionKey);
  });
});
