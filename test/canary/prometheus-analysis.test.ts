import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IntervalVerdict, QueryOutcome } from '../../src/model/canary.js';
import type { PromAnswer } from '../../src/model/prometheus.js';
import { resolveChecks } from '../../src/canary/core/canary-checks.js';
import { decideCanary } from '../../src/canary/core/decide-canary.js';
import { judgeInterval } from '../../src/canary/core/judge-canary.js';
import { judgeQuery, planQueries, resolvePrometheus, type ResolvedQuery } from '../../src/canary/core/prometheus-analysis.js';
import { escapePromQLString, promqlDuration, regexAlternation, renderPromQL } from '../../src/canary/core/promql-template.js';
import { emptyWindow } from '../../src/canary/core/proxy-window.js';

const HOSTILE = 'a"} or vector(1) #';

/** The double-quoted string literals of a PromQL text, decoded (PromQL's escapes for \\ and \" are JSON's). */
function stringLiterals(promql: string): string[] {
  return [...promql.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1] ?? ''}"`) as string);
}

test('a hostile proxy name stays inside its string: the query keeps its shape and the label value is the name', () => {
  const template = 'sum(rate(http_errors_total{proxy="{{proxy}}",region="{{region}}"}[{{interval}}]))';
  const promql = renderPromQL(template, { proxy: escapePromQLString(HOSTILE), region: escapePromQLString('eu\\west\n'), version: '', interval: '5m' });
  assert.equal(promql, 'sum(rate(http_errors_total{proxy="a\\"} or vector(1) #",region="eu\\\\west\\n"}[5m]))');
  assert.deepEqual(stringLiterals(promql), [HOSTILE, 'eu\\west\n']);
  // Outside the strings, only the template's own text is left.
  assert.equal(promql.replace(/"((?:[^"\\]|\\.)*)"/g, '""'), 'sum(rate(http_errors_total{proxy="",region=""}[5m]))');
});

test('baseline names become an escaped regex alternation that matches exactly those names', () => {
  const names = ['tokyo-2', 'tokyo.3', HOSTILE];
  const regex = regexAlternation(names);
  assert.equal(regex, 'tokyo-2|tokyo\\.3|a"\\} or vector\\(1\\) #');
  // Prometheus anchors label regexes; RE2 and JS agree on these escapes.
  const anchored = new RegExp(`^(?:${regex})$`);
  for (const n of names) assert.ok(anchored.test(n), n);
  for (const n of ['tokyo-23', 'tokyoX3', 'tokyo']) assert.ok(!anchored.test(n), n);
  const literal = stringLiterals(`x{proxy=~"${escapePromQLString(regex)}"}`);
  assert.deepEqual(literal, [regex]);
});

test('the interval as a PromQL duration in one unit; unknown placeholders are left for the rules to refuse', () => {
  assert.deepEqual([300_000, 3_600_000, 5_400_000, 90_000, 1_500].map(promqlDuration), ['5m', '1h', '90m', '90s', '1500ms']);
  assert.equal(renderPromQL('x{a="{{ proxy }}"}[{{interval}}] {{instnce}}', { proxy: 'p', region: 'r', version: 'v', interval: '5m' }), 'x{a="p"}[5m] {{instnce}}');
});

const errorRatio: ResolvedQuery = resolvePrometheus({
  address: 'http://prometheus:9090',
  queries: [
    {
      name: 'error-ratio',
      query: 'sum(rate(errors{proxy="{{proxy}}",version="{{version}}"}[{{interval}}]))',
      baselineQuery: 'avg(rate(errors{proxy=~"{{proxy}}",region="{{region}}",version="{{version}}"}[{{interval}}]))',
      sampleQuery: 'sum(increase(attempts{proxy="{{proxy}}"}[{{interval}}]))',
      max: 0.05,
      maxRelative: 2,
      minSample: 100,
    },
  ],
}).queries[0] as ResolvedQuery;

test('defaults: a 10s timeout, minSample 1, failureLimit 2', () => {
  const r = resolvePrometheus({ address: 'http://p:9090', queries: [{ name: 'q', query: 'up', max: 1 }] });
  assert.deepEqual(r, { address: 'http://p:9090', timeoutMs: 10_000, queries: [{ name: 'q', query: 'up', max: 1, minSample: 1, failureLimit: 2 }] });
  assert.deepEqual([errorRatio.minSample, errorRatio.failureLimit], [100, 2]);
});

test('plans: each canary proxy with its own name and the build; its baseline with the baseline names, region and version', () => {
  const plans = planQueries({
    queries: [errorRatio],
    canary: [
      { proxy: 'tokyo-1', region: 'tokyo' },
      { proxy: 'osaka-1', region: 'osaka' },
      { proxy: 'lonely-1', region: 'nowhere' },
    ],
    baselineOf: (p) => (p === 'tokyo-1' ? { proxies: ['tokyo-2', 'tokyo-3'], region: 'tokyo' } : p === 'osaka-1' ? { proxies: ['tokyo-2', 'tokyo-3'], region: 'tokyo' } : undefined),
    buildVersion: '17.4.9-debug.1',
    baselineVersion: '17.4.2',
    intervalMs: 300_000,
  });
  assert.deepEqual(
    plans.map((p) => [p.proxy, p.value, p.sample, p.baseline]),
    [
      [
        'tokyo-1',
        'sum(rate(errors{proxy="tokyo-1",version="17.4.9-debug.1"}[5m]))',
        'sum(increase(attempts{proxy="tokyo-1"}[5m]))',
        'avg(rate(errors{proxy=~"tokyo-2|tokyo-3",region="tokyo",version="17.4.2"}[5m]))',
      ],
      // Compared with the nearest region's baseline: the same baseline query, run once by the reconciler.
      ['osaka-1', 'sum(rate(errors{proxy="osaka-1",version="17.4.9-debug.1"}[5m]))', 'sum(increase(attempts{proxy="osaka-1"}[5m]))', 'avg(rate(errors{proxy=~"tokyo-2|tokyo-3",region="tokyo",version="17.4.2"}[5m]))'],
      ['lonely-1', 'sum(rate(errors{proxy="lonely-1",version="17.4.9-debug.1"}[5m]))', 'sum(increase(attempts{proxy="lonely-1"}[5m]))', undefined],
    ],
  );
});

const value = (v: number): PromAnswer => ({ ok: true, value: v });
const noData: PromAnswer = { ok: false, error: { noData: true, error: 'Prometheus query "error-ratio" at http://prometheus:9090: no data: the query returned an empty vector' } };
const broken: PromAnswer = { ok: false, error: { noData: false, error: 'Prometheus query "error-ratio" at http://prometheus:9090: HTTP 503: "down"' } };

test('judging a query: the built-in rules (both limits to fail, min sample, no data or errors Inconclusive)', () => {
  const cases: [string, ResolvedQuery, Parameters<typeof judgeQuery>[2], QueryOutcome['result'], string][] = [
    ['10% against 0.5%', errorRatio, { value: value(0.1), sample: value(500), baseline: value(0.005) }, 'Fail', '0.1000 (limit 0.0500, baseline 0.0050)'],
    ['as the baseline', errorRatio, { value: value(0.005), sample: value(500), baseline: value(0.005) }, 'Pass', '0.0050 (limit 0.0500, baseline 0.0050)'],
    ['above 0.05 but under twice a bad baseline', errorRatio, { value: value(0.08), sample: value(500), baseline: value(0.05) }, 'Pass', '0.0800 (limit 0.1000, baseline 0.0500)'],
    ['too little traffic', errorRatio, { value: value(0.5), sample: value(20), baseline: value(0.005) }, 'Inconclusive', 'sample 20 below the minimum 100'],
    ['no data', errorRatio, { value: noData, sample: value(500), baseline: value(0.005) }, 'Inconclusive', noData.ok ? '' : noData.error.error],
    ['Prometheus down', errorRatio, { value: broken, sample: value(500) }, 'Inconclusive', broken.ok ? '' : broken.error.error],
    ['the sample query failed', errorRatio, { value: value(0.5), sample: broken }, 'Inconclusive', `sample ${broken.ok ? '' : broken.error.error}`],
    ['no baseline proxies: max alone', errorRatio, { value: value(0.06), sample: value(500) }, 'Fail', '0.0600 (limit 0.0500)'],
    ['the baseline query failed: max alone, and said so', errorRatio, { value: value(0.04), sample: value(500), baseline: broken }, 'Pass', `0.0400 (limit 0.0500; baseline ${broken.ok ? '' : broken.error.error})`],
  ];
  for (const [name, q, m, result, reason] of cases) {
    const o = judgeQuery(q, 'tokyo-1', m);
    assert.deepEqual([o.result, o.reason], [result, reason], name);
    assert.equal(o.query, 'error-ratio');
  }
  const relativeOnly: ResolvedQuery = { name: 'heap', query: 'q', baselineQuery: 'b', maxRelative: 1.5, minSample: 1, failureLimit: 3 };
  assert.equal(judgeQuery(relativeOnly, 'tokyo-1', { value: value(2e9) }).reason, 'no baseline to compare with');
  assert.deepEqual(judgeQuery(relativeOnly, 'tokyo-1', { value: value(2e9), baseline: value(1e9) }), { query: 'heap', proxy: 'tokyo-1', baseline: 1e9, value: 2e9, sample: 1, result: 'Fail', limit: 1.5e9, reason: '2000000000 (limit 1500000000, baseline 1000000000)' });
  // Without a sampleQuery a value that came back is a sample of 1.
  const absolute: ResolvedQuery = { name: 'restarts', query: 'q', max: 0, minSample: 1, failureLimit: 1 };
  assert.deepEqual([judgeQuery(absolute, 'p', { value: value(0) }).result, judgeQuery(absolute, 'p', { value: value(0) }).sample], ['Pass', 1]);
});

test('an interval with queries: any failing query fails it; an inconclusive one keeps it from passing', () => {
  const w = { ...emptyWindow('tokyo-1', 'tokyo'), scrapes: 10, connectAttempts: 1000, connectFailures: 5, residentMemoryBytes: 6e8, goroutines: 3000 };
  const judge = (queries: QueryOutcome[]) => judgeInterval({ from: 'a', to: 'b', canary: [w], baselineOf: () => [{ ...w, proxy: 'tokyo-2' }], checks: resolveChecks(), queries });
  const q = (result: QueryOutcome['result']): QueryOutcome => ({ query: 'error-ratio', proxy: 'tokyo-1', result, sample: 1, reason: '' });
  assert.equal(judge([]).verdict, 'Pass');
  assert.equal(judge([q('Pass')]).verdict, 'Pass');
  assert.equal(judge([q('Fail')]).verdict, 'Fail');
  assert.equal(judge([q('Pass'), q('Inconclusive')]).verdict, 'Inconclusive');
  assert.deepEqual(judge([q('Fail')]).queries, [q('Fail')]);
});

test("the decision counts each query's failing intervals against its own failureLimit", () => {
  const checks = resolveChecks();
  const queries: ResolvedQuery[] = [
    { ...errorRatio, failureLimit: 3 },
    { name: 'restarts', query: 'q', max: 0, minSample: 1, failureLimit: 1 },
  ];
  const interval = (verdict: IntervalVerdict['verdict'], failing: string[] = []): IntervalVerdict => ({
    from: 'a',
    to: 'b',
    verdict,
    outcomes: [],
    queries: failing.map((name) => ({ query: name, proxy: 'tokyo-1', result: 'Fail' as const, value: 0.2, sample: 500, reason: '0.2000 (limit 0.0500)' })),
  });
  const decide = (intervals: IntervalVerdict[], now = 0) => decideCanary({ intervals, checks, queries, bakeEndsAt: 100, now });
  assert.deepEqual(decide([interval('Fail', ['error-ratio']), interval('Fail', ['error-ratio'])]), { kind: 'continue' });
  assert.deepEqual(decide([interval('Fail', ['error-ratio']), interval('Pass'), interval('Fail', ['error-ratio']), interval('Fail', ['error-ratio'])]), { kind: 'continue' });
  assert.deepEqual(decide([interval('Fail', ['error-ratio']), interval('Fail', ['error-ratio']), interval('Fail', ['error-ratio'])]), {
    kind: 'rollback',
    reason: 'prometheus:error-ratio failed 3 intervals in a row: tokyo-1 0.2000 (limit 0.0500)',
  });
  assert.deepEqual(decide([interval('Pass'), interval('Fail', ['restarts'])]), { kind: 'rollback', reason: 'prometheus:restarts failed 1 intervals in a row: tokyo-1 0.2000 (limit 0.0500)' });
  // A query the spec no longer has is not counted.
  assert.deepEqual(decideCanary({ intervals: [interval('Fail', ['gone'])], checks, queries: [], bakeEndsAt: 100, now: 0 }), { kind: 'continue' });
});

test('a bake with no conclusive interval names the queries that gave no answer', () => {
  const unanswered: IntervalVerdict = { from: 'a', to: 'b', verdict: 'Inconclusive', outcomes: [], queries: [{ query: 'error-ratio', proxy: 'tokyo-1', result: 'Inconclusive', sample: 0, reason: 'HTTP 503' }] };
  assert.deepEqual(decideCanary({ intervals: [unanswered], checks: [], queries: [errorRatio], bakeEndsAt: 100, now: 100 }), {
    kind: 'hold',
    reason: 'no interval of 1 was conclusive: too little traffic on the canary proxies; the latest Prometheus queries not conclusive: prometheus:error-ratio on tokyo-1: HTTP 503',
  });
});
