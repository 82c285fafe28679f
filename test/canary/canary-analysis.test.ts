import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IntervalVerdict } from '../../src/model/canary.js';
import type { ProxyObservation } from '../../src/model/snapshot.js';
import { baselineProxies } from '../../src/canary/core/baseline.js';
import { resolveChecks, type ResolvedCheck } from '../../src/canary/core/canary-checks.js';
import { decideCanary } from '../../src/canary/core/decide-canary.js';
import { judgeCheck, judgeInterval } from '../../src/canary/core/judge-canary.js';
import { addObservation, emptyWindow, type ProxyWindow } from '../../src/canary/core/proxy-window.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { metrics, observation } from '../helpers/snapshot-fixture.js';

const CHECKS = resolveChecks();
const check = (name: ResolvedCheck['name']): ResolvedCheck => {
  const c = CHECKS.find((x) => x.name === name);
  assert.ok(c);
  return c;
};

function window(proxy: string, over: Partial<ProxyWindow> = {}): ProxyWindow {
  return { ...emptyWindow(proxy, 'tokyo'), scrapes: 10, connectAttempts: 1000, connectFailures: 5, residentMemoryBytes: 600e6, goroutines: 3000, ...over };
}

test('a window adds counter increases scrape by scrape, across a restart, and counts each scrape once', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const obs = (s: number, m: Partial<ReturnType<typeof metrics>>, o: Partial<ProxyObservation> = {}): ProxyObservation =>
    observation('tokyo-1', 'tokyo', { metrics: metrics({ connectAttempts: 0, connectFailures: 0, startTimeSeconds: 100, ...m }), lastScrapeAt: at(s), ...o });
  let w = emptyWindow('tokyo-1', 'tokyo');
  w = addObservation(w, obs(0, { connectAttempts: 500, connectFailures: 2 }));
  w = addObservation(w, obs(10, { connectAttempts: 700, connectFailures: 4, processState: 'degraded' }, { readyzStatus: 503 }));
  w = addObservation(w, obs(10, { connectAttempts: 700, connectFailures: 4 })); // the same scrape again
  // Restarted: counters begin again from 0.
  w = addObservation(w, obs(20, { connectAttempts: 50, connectFailures: 1, startTimeSeconds: 200 }));
  w = addObservation(w, obs(30, {}, { up: false, metrics: undefined }));
  assert.deepEqual(
    { scrapes: w.scrapes, notOk: w.notOkScrapes, readyz: w.readyzFailures, missed: w.missedScrapes, restarts: w.restarts, attempts: w.connectAttempts, failures: w.connectFailures },
    { scrapes: 3, notOk: 1, readyz: 1, missed: 1, restarts: 1, attempts: 250, failures: 3 },
  );
});

test('each check: fail beyond its limit, pass within it, inconclusive on too little sample', () => {
  const baseline = [window('tokyo-2'), window('tokyo-3')];
  const cases: [string, ResolvedCheck, Partial<ProxyWindow>, string | undefined][] = [
    ['connection failures 10% against 0.5%', check('connect-failure-ratio'), { connectFailures: 100 }, 'Fail'],
    ['connection failures as the baseline', check('connect-failure-ratio'), {}, 'Pass'],
    ['3% failures: above both the 2% floor and twice the baseline', check('connect-failure-ratio'), { connectFailures: 30 }, 'Fail'],
    ['1.5% failures: above 2x baseline, under the absolute floor', check('connect-failure-ratio'), { connectFailures: 15 }, 'Pass'],
    ['20 connection attempts only', check('connect-failure-ratio'), { connectAttempts: 20, connectFailures: 10 }, 'Inconclusive'],
    ['degraded in 4 of 10 scrapes', check('process-state'), { notOkScrapes: 4 }, 'Fail'],
    ['readyz 503 in 3 of 10', check('readyz-failures'), { readyzFailures: 3 }, 'Fail'],
    ['one restart', check('restarts'), { restarts: 1 }, 'Fail'],
    ['memory twice the baseline', check('memory'), { residentMemoryBytes: 1.2e9 }, 'Fail'],
    ['memory 1.2x the baseline', check('memory'), { residentMemoryBytes: 720e6 }, 'Pass'],
    ['goroutines leaking', check('goroutines'), { goroutines: 9000 }, 'Fail'],
  ];
  for (const [name, c, over, expected] of cases) assert.equal(judgeCheck(c, window('tokyo-1', over), baseline)?.result, expected, name);
  const failing = judgeCheck(check('connect-failure-ratio'), window('tokyo-1', { connectFailures: 100 }), baseline);
  assert.equal(failing?.reason, '0.1000 of node connections failed (limit 0.0200, baseline 0.0050)');
});

test('a metric neither side exposes is not judged; a relative-only check without baseline is inconclusive', () => {
  const noMemory = (p: string) => window(p, { residentMemoryBytes: undefined });
  assert.equal(judgeCheck(check('memory'), noMemory('tokyo-1'), [noMemory('tokyo-2')]), undefined);
  assert.equal(judgeCheck(check('memory'), window('tokyo-1'), [])?.reason, 'no baseline to compare with');
});

test('an interval fails if any check fails, passes only if all pass, else is inconclusive', () => {
  const judge = (over: Partial<ProxyWindow>) => judgeInterval({ from: 'a', to: 'b', canary: [window('tokyo-1', over)], baselineOf: () => [window('tokyo-2')], checks: CHECKS }).verdict;
  assert.equal(judge({}), 'Pass');
  assert.equal(judge({ restarts: 1 }), 'Fail');
  assert.equal(judge({ connectAttempts: 10, connectFailures: 0 }), 'Inconclusive');
});

test('the decision: roll back after failureLimit failing intervals in a row; at the bake end succeed, or hold on too little traffic', () => {
  const interval = (verdict: IntervalVerdict['verdict'], failing: ResolvedCheck['name'][] = []): IntervalVerdict => ({
    from: 'a',
    to: 'b',
    verdict,
    outcomes: failing.map((c) => ({ check: c, proxy: 'tokyo-1', result: 'Fail' as const, sample: 10, reason: 'bad' })),
  });
  const decide = (intervals: IntervalVerdict[], now = 0) => decideCanary({ intervals, checks: CHECKS, bakeEndsAt: 100, now });
  assert.deepEqual(decide([interval('Pass'), interval('Fail', ['connect-failure-ratio'])]), { kind: 'continue' });
  assert.deepEqual(decide([interval('Fail', ['connect-failure-ratio']), interval('Fail', ['connect-failure-ratio'])]), { kind: 'rollback', reason: 'connect-failure-ratio failed 2 intervals in a row: tokyo-1 bad' });
  // Restarts have a failure limit of 1.
  assert.equal(decide([interval('Fail', ['restarts'])]).kind, 'rollback');
  assert.deepEqual(decide([interval('Inconclusive'), interval('Pass')], 100), { kind: 'succeed' });
  assert.deepEqual(decide([interval('Inconclusive'), interval('Inconclusive')], 100), { kind: 'hold', reason: 'no interval of 2 was conclusive: too little traffic on the canary proxies' });
  assert.deepEqual(decide([interval('Pass'), interval('Fail', ['memory'])], 100), { kind: 'hold', reason: 'the bake ended on a failing interval' });
});

test('baseline: the canary region\'s other proxies on the old version, else the nearest region that has some', () => {
  const fleet = fleetSpec();
  const old = new Set(['tokyo-2', 'london-1']);
  assert.deepEqual(baselineProxies(fleet, 'tokyo-1', new Set(['tokyo-1']), (p) => old.has(p)), ['tokyo-2']);
  assert.deepEqual(baselineProxies(fleet, 'tokyo-1', new Set(['tokyo-1', 'tokyo-2']), (p) => old.has(p)), ['london-1']);
  assert.deepEqual(baselineProxies(fleet, 'tokyo-1', new Set(['tokyo-1']), () => false), []);
});
