import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath } from '../../src/model/field-error.js';
import { validateManifest } from '../../src/model/validate.js';

const ERROR_RATIO = {
  name: 'error-ratio',
  query: 'sum(rate(http_errors_total{proxy="{{proxy}}"}[{{interval}}])) / sum(rate(http_requests_total{proxy="{{proxy}}"}[{{interval}}]))',
  baselineQuery: 'sum(rate(http_errors_total{proxy=~"{{proxy}}",version="{{version}}"}[{{interval}}])) / sum(rate(http_requests_total{proxy=~"{{proxy}}"}[{{interval}}]))',
  sampleQuery: 'sum(increase(http_requests_total{proxy="{{ proxy }}",region="{{region}}"}[{{interval}}]))',
  max: 0.05,
  maxRelative: 2,
  minSample: 100,
  failureLimit: 3,
};

function canary(prometheus: unknown, build: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyCanary',
    metadata: { name: 'debug' },
    spec: { build: { version: '17.4.9-debug.1', ...build }, subset: { perRegion: 1 }, analysis: { prometheus } },
  };
}

const prom = (queries: unknown[], extra: Record<string, unknown> = {}) => ({ address: 'https://prometheus.example.com/prom', timeout: '5s', bearerTokenFile: '/etc/meridian/prom-token', queries, ...extra });

function errorsOf(doc: unknown): string[] {
  const r = validateManifest(doc);
  return r.ok ? [] : r.error.map((e) => `${formatPath(e.path)}: ${e.message}`);
}

test('a canary with a Prometheus provider and a build artifact is accepted', () => {
  assert.deepEqual(errorsOf(canary(prom([ERROR_RATIO, { name: 'start-time-changes', query: 'sum(changes(process_start_time_seconds{proxy="{{proxy}}"}[{{interval}}]))', max: 0 }]), { artifact: 'https://artifacts.example.com/teleport-17.4.9-debug.1.tar.gz', image: 'teleport:17.4.9-debug.1' })), []);
});

test('Prometheus query rules name the field', () => {
  const cases: [string, unknown, string][] = [
    ['an unknown placeholder', prom([ERROR_RATIO, { name: 'up', query: 'up{instance="{{instnce}}"}', max: 1 }]), 'spec.analysis.prometheus.queries[1].query: unknown placeholder {{instnce}} (known: {{proxy}} {{region}} {{version}} {{interval}})'],
    ['an unknown placeholder in the baseline query', prom([{ ...ERROR_RATIO, baselineQuery: 'x{p=~"{{proxies}}"}' }]), 'spec.analysis.prometheus.queries[0].baselineQuery: unknown placeholder {{proxies}}'],
    ['no limit', prom([{ name: 'up', query: 'up' }]), 'spec.analysis.prometheus.queries[0]: give max, maxRelative or both: a query with no limit cannot fail'],
    ['maxRelative without a baseline query', prom([{ name: 'mem', query: 'm{p="{{proxy}}"}', maxRelative: 1.5 }]), 'spec.analysis.prometheus.queries[0].maxRelative: needs a baselineQuery to be relative to'],
    ['a built-in check name', prom([{ ...ERROR_RATIO, name: 'memory' }]), 'spec.analysis.prometheus.queries[0].name: "memory" is a built-in check; give the query another name'],
    ['a name twice', prom([ERROR_RATIO, ERROR_RATIO]), 'spec.analysis.prometheus.queries[1].name: query "error-ratio" is already set at index 0'],
    ['a minimum sample with nothing to count it', prom([{ name: 'up', query: 'up', max: 1, minSample: 10 }]), 'spec.analysis.prometheus.queries[0].minSample: above 1 needs a sampleQuery'],
    ['a zero timeout', prom([ERROR_RATIO], { timeout: '0s' }), 'spec.analysis.prometheus.timeout: must be longer than 0'],
    ['a non-HTTP address', prom([ERROR_RATIO], { address: 'file:///etc/passwd' }), 'spec.analysis.prometheus.address: must match pattern'],
    ['an unknown field', prom([{ ...ERROR_RATIO, threshold: 1 }]), 'spec.analysis.prometheus.queries[0].threshold: unknown field "threshold"'],
    ['failureLimit 0', prom([{ ...ERROR_RATIO, failureLimit: 0 }]), 'spec.analysis.prometheus.queries[0].failureLimit: must be >= 1'],
    ['maxRelative under 1', prom([{ ...ERROR_RATIO, maxRelative: 0.5 }]), 'spec.analysis.prometheus.queries[0].maxRelative: must be >= 1'],
    ['no queries', prom([]), 'spec.analysis.prometheus.queries: must NOT have fewer than 1 items'],
    ['a name that is not a DNS label', prom([{ ...ERROR_RATIO, name: 'Error Ratio' }]), 'spec.analysis.prometheus.queries[0].name: must match pattern'],
  ];
  for (const [name, p, expected] of cases) {
    const errors = errorsOf(canary(p));
    assert.ok(errors.some((e) => e.startsWith(expected)), `${name}: no error starts with ${expected}; got:\n${errors.join('\n')}`);
  }
});

test('an empty artifact is refused on a canary and on a rollout', () => {
  assert.ok(errorsOf(canary(prom([ERROR_RATIO]), { artifact: '' })).some((e) => e.startsWith('spec.build.artifact: must NOT have fewer than 1 characters')));
  const rollout = { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name: 'up' }, spec: { version: '17.4.8', artifact: '' } };
  assert.ok(errorsOf(rollout).some((e) => e.startsWith('spec.artifact: must NOT have fewer than 1 characters')));
  assert.deepEqual(errorsOf({ ...rollout, spec: { version: '17.4.8', artifact: '/srv/pkgs/teleport-17.4.8.deb', image: 'teleport:17.4.8' } }), []);
});
