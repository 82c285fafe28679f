import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerCanaryMetrics } from '../../src/canary/canary-metrics.js';
import type { IntervalVerdict, ProxyCanary } from '../../src/model/canary.js';
import { API_VERSION } from '../../src/model/resource.js';

/** The metrics page of one Baking canary whose latest interval is `latest`. */
async function scrape(latest: IntervalVerdict): Promise<string> {
  const registry = new Registry();
  const canary: ProxyCanary = {
    apiVersion: API_VERSION,
    kind: 'ProxyCanary',
    metadata: { name: 'debug', namespace: 'default' },
    spec: { build: { version: '17.4.9-debug.1' }, subset: { perRegion: 1 } },
    status: { phase: 'Baking', intervals: [latest] },
  };
  registerCanaryMetrics(registry, () => [canary]);
  return registry.metrics();
}

test('canary phase and the latest interval\'s check results are gauges', async () => {
  const text = await scrape({
    from: 'a',
    to: 'b',
    verdict: 'Fail',
    outcomes: [
      { check: 'restarts', proxy: 'tokyo-1', result: 'Pass', sample: 10, reason: '' },
      { check: 'connect-failure-ratio', proxy: 'tokyo-1', result: 'Fail', sample: 500, reason: '' },
      { check: 'connect-failure-ratio', proxy: 'london-1', result: 'Pass', sample: 500, reason: '' },
    ],
  });
  assert.match(text, /meridian_canary_phase\{canary="default\/debug",phase="Baking"\} 1/);
  assert.match(text, /meridian_canary_phase\{canary="default\/debug",phase="Held"\} 0/);
  assert.match(text, /meridian_canary_check\{canary="default\/debug",check="connect-failure-ratio",result="Fail"\} 1/);
  assert.match(text, /meridian_canary_check\{canary="default\/debug",check="restarts",result="Pass"\} 1/);
  assert.doesNotMatch(text, /check="memory"/);
});

test('each Prometheus query of the latest interval is a check labelled prometheus:NAME', async () => {
  const text = await scrape({
    from: 'a',
    to: 'b',
    verdict: 'Fail',
    outcomes: [],
    queries: [
      { query: 'error-ratio', proxy: 'tokyo-1', result: 'Fail', sample: 500, reason: '' },
      { query: 'error-ratio', proxy: 'london-1', result: 'Pass', sample: 500, reason: '' },
      { query: 'p99-latency', proxy: 'tokyo-1', result: 'Inconclusive', sample: 0, reason: 'no data' },
    ],
  });
  assert.match(text, /meridian_canary_check\{canary="default\/debug",check="prometheus:error-ratio",result="Fail"\} 1/);
  assert.match(text, /meridian_canary_check\{canary="default\/debug",check="prometheus:p99-latency",result="Inconclusive"\} 1/);
  assert.match(text, /meridian_canary_check\{canary="default\/debug",check="prometheus:p99-latency",result="Pass"\} 0/);
});
