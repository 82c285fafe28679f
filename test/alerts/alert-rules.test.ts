import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import type { ProxyCanary } from '../../src/model/canary.js';
import type { ProxyPeering } from '../../src/model/peering.js';
import type { ProxyRollout } from '../../src/model/rollout.js';
import { validateManifest } from '../../src/model/validate.js';
import { registerCanaryMetrics } from '../../src/canary/canary-metrics.js';
import { registerFleetMetrics } from '../../src/fleet/fleet-metrics.js';
import { registerPeeringMetrics } from '../../src/peering/peering-metrics.js';
import { registerRedirectMetrics } from '../../src/redirect/redirect-metrics.js';
import { registerRoutingMetrics } from '../../src/redirect/routing-metrics.js';
import { PROXY_STATES, REGION_STATES } from '../../src/redirect/core/routing-table.js';
import { registerRolloutMetrics } from '../../src/rollout/rollout-metrics.js';
import { registerLeaderMetric } from '../../src/runtime/leader-metric.js';
import { registerControllerMetrics } from '../../src/runtime/controller-metrics.js';

const RULES = 'charts/meridian/alerts/meridian.rules.yaml';
const UNIT_TESTS = 'test/alerts/meridian.rules.test.yaml';

interface Rule {
  readonly alert: string;
  readonly expr: string;
}
interface UnitTests {
  readonly tests: readonly { readonly alert_rule_test?: readonly { readonly alertname: string; readonly exp_alerts?: readonly unknown[] }[] }[];
}

const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

function promtool(args: readonly string[]) {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  if (r.error) assert.fail(`promtool is needed for the alert rules: run .ci/install-deps.sh (apt-get install prometheus). ${r.error.message}`);
  return r;
}

test('the alert rules pass promtool check rules', () => {
  const r = promtool(['check', 'rules', RULES]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('the alert rules pass their promtool unit tests', () => {
  const r = promtool(['test', 'rules', UNIT_TESTS]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

test('every alert has a unit test where it fires and one where it must not', () => {
  const cases = (parse(readFileSync(UNIT_TESTS, 'utf8')) as UnitTests).tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const { alert } of rules) {
    const mine = cases.filter((c) => c.alertname === alert);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert}: no case where it fires`);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert}: no case where it must stay quiet`);
  }
});

test('every metric and label the rules select is one the controller exports', async () => {
  const registry = new Registry();
  registerFleetMetrics(registry, () => []);
  registerControllerMetrics(registry, () => []);
  registerRedirectMetrics(registry, () => undefined);
  registerRoutingMetrics(registry, () => undefined);
  registerRolloutMetrics(registry, () => []);
  registerCanaryMetrics(registry, () => []);
  registerPeeringMetrics(registry, () => []);
  registerLeaderMetric(registry, 'meridian-a');
  const labelsOf = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, (registry.getSingleMetric(m.name) as unknown as { labelNames: string[] }).labelNames]));
  let selectors = 0;
  for (const { alert, expr } of rules) {
    for (const [, name, matchers] of expr.matchAll(/\b(meridian_[a-z_]+)(?:\{([^}]*)\})?/g)) {
      selectors++;
      const labels = labelsOf.get(name ?? '');
      assert.ok(labels, `${alert}: ${name} is not a Meridian metric`);
      for (const [, label] of (matchers ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) assert.ok(labels.includes(label ?? ''), `${alert}: ${name} has no label ${label}`);
    }
  }
  assert.ok(selectors >= rules.length, `${selectors} selectors read`);
});

test('every routing state the rules select is one the controller exports (a renamed state would never match)', () => {
  const statesOf: Readonly<Record<string, readonly string[]>> = { meridian_proxy_routing_state: PROXY_STATES, meridian_region_routing_state: REGION_STATES };
  let selected = 0;
  for (const { alert, expr } of rules) {
    for (const [, name, matchers] of expr.matchAll(/\b(meridian_(?:proxy|region)_routing_state)\{([^}]*)\}/g)) {
      for (const [, value] of (matchers ?? '').matchAll(/\bstate\s*=~?\s*"([^"]*)"/g)) {
        for (const state of (value ?? '').split('|')) {
          selected++;
          assert.ok(statesOf[name ?? '']?.includes(state), `${alert}: ${name} has no state "${state}"`);
        }
      }
    }
  }
  assert.ok(selected >= 3, `${selected} states read`);
});

test("the chart's PrometheusRule reads this rule file, and is off unless asked for", () => {
  const template = readFileSync('charts/meridian/templates/prometheusrule.yaml', 'utf8');
  const [, path] = /\.Files\.Get "([^"]+)"/.exec(template) ?? [];
  assert.equal(`charts/meridian/${path}`, RULES);
  const values = parse(readFileSync('charts/meridian/values.yaml', 'utf8')) as { alerts: { enabled: boolean } };
  assert.equal(values.alerts.enabled, false, 'the operator CRDs may be missing: opt in');
  assert.match(template, /^\{\{- if \.Values\.alerts\.enabled \}\}$/m);
});

function example<K extends string>(file: string, kind: K, edit: (doc: Record<string, unknown>) => void = () => undefined) {
  const doc = (parse(readFileSync(file, 'utf8').split(/^---$/m).find((d) => d.includes(`kind: ${kind}`)) ?? '') ?? {}) as Record<string, unknown>;
  edit(doc);
  const v = validateManifest(doc);
  assert.ok(v.ok && v.value.kind === kind, `${file}: ${v.ok ? v.value.kind : JSON.stringify(v.error)}`);
  return v.value;
}

test('the counters the alerts take increase() of are exported from 0, before their first event', async () => {
  const registry = new Registry();
  registerRedirectMetrics(registry, () => undefined);
  const rollout = example('examples/rollouts/follow-the-sun.yaml', 'ProxyRollout', (doc) => {
    const spec = doc['spec'] as Record<string, unknown>;
    spec['notice'] = { ...(spec['notice'] as object), channels: [{ name: 'ops', type: 'webhook', url: 'https://hooks.example.com/ops' }] };
  }) as ProxyRollout;
  const canary = example('examples/canaries/debug-build.yaml', 'ProxyCanary', (doc) => {
    const spec = doc['spec'] as Record<string, unknown>;
    spec['notice'] = { ...(spec['notice'] as object), channels: [{ name: 'canary-desk', type: 'webhook', url: 'https://hooks.example.com/desk' }] };
  }) as ProxyCanary;
  registerRolloutMetrics(registry, () => [rollout], () => [canary]);
  const peering = example('examples/fleet/peering.yaml', 'ProxyPeering') as ProxyPeering;
  registerPeeringMetrics(registry, () => [peering]);
  const text = await registry.metrics();
  assert.match(text, /^meridian_redirects_total\{region="none",reason="unavailable"\} 0$/m);
  assert.match(text, /^meridian_notices_total\{channel="ops",result="failed"\} 0$/m);
  assert.match(text, /^meridian_notices_total\{channel="ops",result="sent"\} 0$/m);
  // A canary's deploy and revert notify on the canary's own channels.
  assert.match(text, /^meridian_notices_total\{channel="canary-desk",result="failed"\} 0$/m);
  assert.match(text, /^meridian_peering_inventory_errors_total\{peering="default\/demo"\} 0$/m);
});
