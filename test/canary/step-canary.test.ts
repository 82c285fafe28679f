import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intentOf, type CanaryContext } from '../../src/canary/core/canary-step-types.js';
import { stepCanary } from '../../src/canary/core/step-canary.js';
import type { ProxyCanaryStatus } from '../../src/model/canary.js';
import { ok } from '../../src/model/result.js';
import { metrics, observation } from '../helpers/snapshot-fixture.js';
import { BUILD, canary, canaryFleet } from './helpers/run-canary.js';

const NOW = Date.UTC(2026, 0, 5, 12);

function ctx(status: ProxyCanaryStatus, spec: Parameters<typeof canary>[0] = {}, scrapedAt = NOW): CanaryContext {
  const fleet = canaryFleet();
  const seen = fleet.proxies.map((p) => observation(p.name, p.region, { metrics: metrics({ version: p.name.endsWith('-1') ? BUILD : '17.4.2', connectAttempts: scrapedAt / 1000 }), lastScrapeAt: new Date(scrapedAt).toISOString() }));
  // Through JSON, as a store gives it back: nothing but the stored status carries over.
  return { canary: { ...canary(spec), status: JSON.parse(JSON.stringify(status)) as ProxyCanaryStatus }, fleet: ok(fleet), observations: new Map(seen.map((o) => [o.name, o])), now: NOW };
}

test('an operator\'s promotion is one intent: Promoting with the create of the rollout, made again by a pass that finds it in flight', () => {
  const held: ProxyCanaryStatus = { phase: 'Held', startedAt: '2026-01-05T10:00:00.000Z', proxies: ['tokyo-1', 'london-1'], decision: { kind: 'hold', reason: 'too little traffic', at: '2026-01-05T11:00:00.000Z' } };
  const step = stepCanary(ctx(held, { decision: 'promote' }));
  assert.equal(step.run, undefined);
  assert.deepEqual([step.status.phase, step.status.decision?.kind, step.status.inFlight], ['Promoting', 'succeed', undefined]);
  assert.ok(step.action?.kind === 'promote');
  assert.equal(step.action.rollout.metadata.name, 'debug-promote');
  // Crashed after the intent was stored: the next pass makes the same create, and decides nothing else.
  const again = stepCanary(ctx({ ...step.status, inFlight: intentOf(step.action) }, { decision: 'promote' }));
  assert.deepEqual(again.action, step.action);
  assert.deepEqual(again.status, step.status);
});

test('a capture in flight is made again with its id before the revert moves any proxy', () => {
  const st: ProxyCanaryStatus = {
    phase: 'RollingBack',
    startedAt: '2026-01-05T10:00:00.000Z',
    proxies: ['tokyo-1', 'london-1'],
    decision: { kind: 'rollback', reason: 'restarts failed', at: '2026-01-05T11:55:00.000Z' },
    inFlight: { kind: 'capture', id: 'default/debug@2026-01-05T11:55:00.000Z', proxies: ['tokyo-1'] },
  };
  const step = stepCanary(ctx(st));
  assert.equal(step.run, undefined, 'no revert step in the same pass');
  assert.ok(step.action?.kind === 'capture');
  assert.deepEqual([step.action.id, step.action.proxies.map((p) => p.name), step.action.what.pprof], ['default/debug@2026-01-05T11:55:00.000Z', ['tokyo-1'], true]);
});

test('mid-interval, a pass from the stored status adds the new scrape to the stored windows and sleeps until the interval ends', () => {
  const intervalStartedAt = new Date(NOW - 120_000).toISOString();
  const first = stepCanary(ctx({ phase: 'Baking', startedAt: '2026-01-05T10:00:00.000Z', proxies: ['tokyo-1', 'london-1'], bakeStartedAt: intervalStartedAt, intervalStartedAt, analysis: { windows: [] } }, {}, NOW - 60_000));
  const second = stepCanary(ctx(first.status, {}, NOW));
  assert.equal(second.action, undefined);
  assert.equal(second.wakeAt, NOW + 180_000);
  const tokyo = second.status.analysis?.windows.find((w) => w.proxy === 'tokyo-1');
  // Two scrapes; the first page set the base the 60 attempts since are counted from.
  assert.deepEqual([tokyo?.scrapes, tokyo?.connectAttempts], [2, 60]);
  assert.deepEqual(Object.keys(tokyo?.last ?? {}).sort(), ['connectAttempts', 'connectFailures', 'connectionLimitExceeded'], 'only the counters the next increase needs');
});
