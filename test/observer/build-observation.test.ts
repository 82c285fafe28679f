import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import type { ProxyObservation } from '../../src/model/snapshot.js';
import { buildObservation, buildSnapshot, observationChange, withdrawIsolatedGrace, type ObservationInput } from '../../src/observer/core/build-observation.js';
import { metricsWith } from './fixtures/metrics.js';

const AT = '2026-01-01T00:00:30.000Z';
const EARLIER = '2026-01-01T00:00:00.000Z';
const P = { name: 'tokyo-1', region: 'tokyo' };

const previousUp: ProxyObservation = {
  name: 'tokyo-1',
  region: 'tokyo',
  up: true,
  ready: true,
  consecutiveFailures: 0,
  readyzStatus: 200,
  metrics: metricsWith(7),
  sessionsTotal: 10,
  lastScrapeAt: EARLIER,
  lastSuccessAt: EARLIER,
  scrapeDurationMs: 12,
};

describe('buildObservation', () => {
  const cases: { name: string; input: ObservationInput; expect: ProxyObservation }[] = [
    {
      name: 'good scrape, ready',
      input: { proxy: P, outcome: { ok: true, metrics: metricsWith(5), readyzStatus: 200, durationMs: 20 }, at: AT },
      expect: { ...P, up: true, ready: true, consecutiveFailures: 0, readyzStatus: 200, metrics: metricsWith(5), sessionsTotal: 8, lastScrapeAt: AT, lastSuccessAt: AT, scrapeDurationMs: 20 },
    },
    {
      name: 'good scrape, /readyz 503 (degraded): up but not ready',
      input: { proxy: P, outcome: { ok: true, metrics: metricsWith(5), readyzStatus: 503, durationMs: 20 }, previous: previousUp, at: AT },
      expect: { ...P, up: true, ready: false, consecutiveFailures: 0, readyzStatus: 503, metrics: metricsWith(5), sessionsTotal: 8, lastScrapeAt: AT, lastSuccessAt: AT, scrapeDurationMs: 20 },
    },
    {
      name: 'good scrape, /readyz gave no answer: up, not ready, no status',
      input: {
        proxy: P,
        outcome: { ok: true, metrics: metricsWith(0), readyzProblem: { reason: 'timeout', message: 'x/readyz: timed out' }, durationMs: 20 },
        at: AT,
      },
      expect: { ...P, up: true, ready: false, consecutiveFailures: 0, metrics: metricsWith(0), sessionsTotal: 3, lastScrapeAt: AT, lastSuccessAt: AT, scrapeDurationMs: 20 },
    },
    {
      name: 'a first timeout keeps the last metrics and, for one cycle, the last readiness; marks down, records the error',
      input: { proxy: P, outcome: { ok: false, error: { reason: 'timeout', message: 'x/metrics: timed out' }, durationMs: 5000 }, previous: previousUp, at: AT },
      expect: {
        ...P,
        up: false,
        ready: true,
        consecutiveFailures: 1,
        metrics: metricsWith(7),
        sessionsTotal: 10,
        lastScrapeAt: AT,
        lastSuccessAt: EARLIER,
        scrapeDurationMs: 5000,
        error: { reason: 'timeout', message: 'x/metrics: timed out', at: AT },
      },
    },
    {
      name: 'failed first scrape: nothing known, zero sessions, no last success',
      input: { proxy: P, outcome: { ok: false, error: { reason: 'connection_refused', message: 'x/metrics: connection refused' }, durationMs: 1 }, at: AT },
      expect: { ...P, up: false, ready: false, consecutiveFailures: 1, sessionsTotal: 0, lastScrapeAt: AT, scrapeDurationMs: 1, error: { reason: 'connection_refused', message: 'x/metrics: connection refused', at: AT } },
    },
    {
      name: 'garbage page while /readyz says 200: down (metrics unknown), ready as /readyz said',
      input: { proxy: P, outcome: { ok: false, error: { reason: 'parse_error', message: 'x/metrics line 1: ...' }, readyzStatus: 200, durationMs: 3 }, previous: previousUp, at: AT },
      expect: {
        ...P,
        up: false,
        ready: true,
        consecutiveFailures: 1,
        readyzStatus: 200,
        metrics: metricsWith(7),
        sessionsTotal: 10,
        lastScrapeAt: AT,
        lastSuccessAt: EARLIER,
        scrapeDurationMs: 3,
        error: { reason: 'parse_error', message: 'x/metrics line 1: ...', at: AT },
      },
    },
  ];
  const timedOutOnce = buildObservation({ proxy: P, outcome: { ok: false, error: { reason: 'timeout', message: 'x/metrics: timed out' }, durationMs: 5000 }, previous: previousUp, at: EARLIER });
  cases.push(
    {
      name: 'a second timeout in a row ends the grace: not ready',
      input: { proxy: P, outcome: { ok: false, error: { reason: 'timeout', message: 'x/metrics: timed out' }, durationMs: 5000 }, previous: timedOutOnce, at: AT },
      expect: { ...P, up: false, ready: false, consecutiveFailures: 2, metrics: metricsWith(7), sessionsTotal: 10, lastScrapeAt: AT, lastSuccessAt: EARLIER, scrapeDurationMs: 5000, error: { reason: 'timeout', message: 'x/metrics: timed out', at: AT } },
    },
    {
      name: 'a refused connection counts at once: not ready',
      input: { proxy: P, outcome: { ok: false, error: { reason: 'connection_refused', message: 'x/metrics: connection refused' }, durationMs: 1 }, previous: previousUp, at: AT },
      expect: { ...P, up: false, ready: false, consecutiveFailures: 1, metrics: metricsWith(7), sessionsTotal: 10, lastScrapeAt: AT, lastSuccessAt: EARLIER, scrapeDurationMs: 1, error: { reason: 'connection_refused', message: 'x/metrics: connection refused', at: AT } },
    },
  );
  for (const c of cases) {
    it(c.name, () => {
      const o = buildObservation(c.input);
      assert.deepEqual(o, c.expect);
      assert.ok(Object.isFrozen(o) && (!o.metrics || Object.isFrozen(o.metrics)) && (!o.error || Object.isFrozen(o.error)));
    });
  }

  it('does not freeze or alter the metrics object it was given', () => {
    const m = metricsWith(1);
    buildObservation({ proxy: P, outcome: { ok: true, metrics: m, durationMs: 1 }, at: AT });
    assert.equal(Object.isFrozen(m), false);
  });
});

describe('buildSnapshot', () => {
  it('freezes the snapshot, its list and every observation down to the metrics', () => {
    const s = buildSnapshot({ observedAt: AT, fleet: { name: 'global', namespace: 'default', generation: 3 }, proxies: [previousUp] });
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.proxies) && Object.isFrozen(s.fleet));
    const [p] = s.proxies;
    assert.ok(p && Object.isFrozen(p) && Object.isFrozen(p.metrics) && Object.isFrozen(p.metrics?.sessions) && Object.isFrozen(p.metrics?.tunnels));
    assert.deepEqual(s.proxies[0], previousUp);
  });
});

describe('observationChange', () => {
  const down = (reason: 'timeout' | 'http_status'): ProxyObservation => ({ ...previousUp, up: false, error: { reason, message: reason, at: AT } });
  const cases: [string, ProxyObservation | undefined, ProxyObservation, ReturnType<typeof observationChange>][] = [
    ['first observation, down', undefined, down('timeout'), 'down'],
    ['first observation, up', undefined, previousUp, undefined],
    ['up to down', previousUp, down('timeout'), 'down'],
    ['still down, same reason', down('timeout'), down('timeout'), undefined],
    ['still down, new reason', down('timeout'), down('http_status'), 'error_changed'],
    ['down to up', down('timeout'), previousUp, 'recovered'],
    ['still up', previousUp, previousUp, undefined],
  ];
  for (const [name, prev, next, expected] of cases) it(name, () => assert.equal(observationChange(prev, next), expected));
});

test('a first timeout that stands alone loses its grace; many together (an observer stall) keep it', () => {
  const answering = (name: string): ProxyObservation => ({ ...previousUp, name });
  const { readyzStatus: _, ...noReadyz } = previousUp;
  const timedOut = (name: string): ProxyObservation => ({ ...noReadyz, name, up: false, ready: true, consecutiveFailures: 1, error: { reason: 'timeout', message: 'timed out', at: AT } });
  const fleetOf = (ok: number, slow: number) => [...Array.from({ length: ok }, (_, i) => answering(`ok-${i}`)), ...Array.from({ length: slow }, (_, i) => timedOut(`slow-${i}`))];
  assert.deepEqual(withdrawIsolatedGrace(fleetOf(13, 1)).map((o) => [o.name, o.ready]), [['slow-0', false]]);
  // 2% of 200 is 4: four hung proxies are still each one's own fault, five look like the observer.
  assert.equal(withdrawIsolatedGrace(fleetOf(196, 4)).length, 4);
  assert.deepEqual(withdrawIsolatedGrace(fleetOf(195, 5)), []);
  // Nobody answered: nothing to compare with, the grace stays.
  assert.deepEqual(withdrawIsolatedGrace(fleetOf(0, 1)), []);
  // A timeout whose /readyz answered already says what it says.
  assert.deepEqual(withdrawIsolatedGrace([...fleetOf(10, 0), { ...timedOut('x'), readyzStatus: 200 }]), []);
});
