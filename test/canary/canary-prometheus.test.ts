import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSecret } from '../../src/adapters/hooks/index.js';
import { createPrometheusClient } from '../../src/adapters/prometheus/index.js';
import type { PrometheusQuery } from '../../src/model/canary.js';
import { startPrometheus, vector, type PromReply } from '../prometheus/fake-prometheus.js';
import { BUILD, canary, runCanary } from './helpers/run-canary.js';

/** The built-in checks see a healthy build: only Prometheus knows better. */
const HEALTHY = { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.005 } };

const ERROR_RATIO: PrometheusQuery = {
  name: 'error-ratio',
  query: 'sum(rate(tsh_errors_total{proxy="{{proxy}}",version="{{version}}"}[{{interval}}]))',
  baselineQuery: 'avg(rate(tsh_errors_total{proxy=~"{{proxy}}",region="{{region}}",version="{{version}}"}[{{interval}}]))',
  sampleQuery: 'sum(increase(tsh_requests_total{proxy="{{proxy}}"}[{{interval}}]))',
  max: 0.05,
  maxRelative: 2,
  minSample: 100,
};

/** The table of answers: the queries exactly as the reconciler renders them for the two canary proxies and their baselines. */
function answers(canaryRatio: PromReply): Record<string, PromReply> {
  const out: Record<string, PromReply> = {};
  for (const region of ['tokyo', 'london']) {
    out[`sum(rate(tsh_errors_total{proxy="${region}-1",version="${BUILD}"}[5m]))`] = canaryRatio;
    out[`avg(rate(tsh_errors_total{proxy=~"${region}-2|${region}-3",region="${region}",version="17.4.2"}[5m]))`] = { json: vector('0.01') };
    out[`sum(increase(tsh_requests_total{proxy="${region}-1"}[5m]))`] = { json: vector('500') };
  }
  return out;
}

const client = createPrometheusClient({ readSecret });

test('a build whose Prometheus error ratio is high fails its analysis and is rolled back, with diagnostics', async (t) => {
  const prom = await startPrometheus(t, { answers: answers({ json: vector('0.2') }) });
  const r = await runCanary(canary({ analysis: { prometheus: { address: prom.url, queries: [ERROR_RATIO] } } }), HEALTHY, { queryPrometheus: client });
  assert.equal(r.status.phase, 'RolledBack', r.status.message);
  assert.equal(
    r.status.decision?.reason,
    'prometheus:error-ratio failed 2 intervals in a row: tokyo-1 0.2000 (limit 0.0500, baseline 0.0100); london-1 0.2000 (limit 0.0500, baseline 0.0100)',
  );
  for (const p of ['tokyo-1', 'london-1']) assert.equal(r.world.proxies.get(p)?.version, '17.4.2', p);
  assert.deepEqual(r.captured, ['tokyo-1', 'london-1']);
  const last = r.status.intervals?.at(-1);
  assert.equal(last?.verdict, 'Fail');
  // The built-in checks were judged and passed: the query alone failed the interval.
  assert.ok(last?.outcomes.length, 'the built-in checks were judged');
  assert.ok(last.outcomes.every((o) => o.result !== 'Fail'));
  assert.deepEqual(
    last?.queries?.map((o) => [o.query, o.proxy, o.result, o.value, o.baseline, o.limit, o.sample]),
    [
      ['error-ratio', 'tokyo-1', 'Fail', 0.2, 0.01, 0.05, 500],
      ['error-ratio', 'london-1', 'Fail', 0.2, 0.01, 0.05, 500],
    ],
  );
});

test('a build with good Prometheus values passes and is promoted', async (t) => {
  const prom = await startPrometheus(t, { answers: answers({ json: vector('0.012') }) });
  const r = await runCanary(canary({ analysis: { prometheus: { address: prom.url, queries: [ERROR_RATIO] } } }), HEALTHY, { queryPrometheus: client });
  assert.equal(r.status.phase, 'Promoted', r.status.message);
  assert.ok((r.status.intervals ?? []).length >= 6);
  for (const i of r.status.intervals ?? []) {
    assert.equal(i.verdict, 'Pass');
    assert.deepEqual(i.queries?.map((o) => [o.proxy, o.result, o.reason]), [
      ['tokyo-1', 'Pass', '0.0120 (limit 0.0500, baseline 0.0100)'],
      ['london-1', 'Pass', '0.0120 (limit 0.0500, baseline 0.0100)'],
    ]);
  }
  // Each interval asks each distinct query once (value, baseline and sample for two regions), at the interval's end.
  const intervals = r.status.intervals ?? [];
  assert.equal(prom.requests.length, intervals.length * 6);
  assert.deepEqual(new Set(prom.requests.map((q) => q.get('time'))), new Set(intervals.map((i) => String(Date.parse(i.to) / 1000))));
});

test('no data from Prometheus is never a failure and never a pass: the canary is held for the operator', async (t) => {
  const prom = await startPrometheus(t, { answers: answers({ json: vector() }) });
  const r = await runCanary(canary({ analysis: { prometheus: { address: prom.url, queries: [ERROR_RATIO] } } }), HEALTHY, { queryPrometheus: client });
  assert.equal(r.status.phase, 'Held', r.status.message);
  assert.equal(r.status.intervals?.length, 6, 'every interval of the 30m bake was judged');
  assert.ok(r.status.intervals.every((i) => i.verdict === 'Inconclusive'));
  assert.match(r.status.decision?.reason ?? '', /prometheus:error-ratio on tokyo-1: Prometheus query "error-ratio" at http:\/\/127\.0\.0\.1:\d+: no data: the query returned an empty vector/);
  for (const p of ['tokyo-1', 'london-1']) assert.equal(r.world.proxies.get(p)?.version, BUILD, `${p} stays on the build for the operator`);
});

test('a canary with Prometheus queries but no client wired is held with the reason, not crashed', async () => {
  const r = await runCanary(canary({ analysis: { prometheus: { address: 'http://prometheus.invalid:9090', queries: [ERROR_RATIO] } } }), HEALTHY);
  assert.equal(r.status.phase, 'Held', r.status.message);
  assert.match(r.status.decision?.reason ?? '', /Prometheus query "error-ratio": no Prometheus client is configured in this controller/);
  assert.equal(r.status.intervals?.length, 6, 'every interval of the 30m bake was judged');
  assert.ok(r.status.intervals.every((i) => i.queries?.length && i.queries.every((o) => o.result === 'Inconclusive')));
});
