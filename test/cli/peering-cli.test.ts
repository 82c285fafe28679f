import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { runCli } from '../../src/cli/main.js';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyPeering } from '../../src/model/peering.js';
import { API_VERSION } from '../../src/model/resource.js';
import { PeeringPlanner } from '../../src/peering/core/peering-planner.js';
import { buildReport, REPORT_EXAMPLES } from '../../src/peering/core/peering-report.js';
import { capture } from '../helpers/capture-io.js';
import { NO_ROLLOUTS } from '../helpers/admin-deps.js';
import { TWO_CITY_FLEET } from '../helpers/two-city-fleet.js';

// Without chi-2: New York needs exactly one link.
const FLEET: ProxyFleetSpec = { ...TWO_CITY_FLEET, proxies: TWO_CITY_FLEET.proxies.filter((p) => p.name !== 'chi-2') };
const NODES = [
  { kind: 'node', metadata: { name: 'n1', labels: { region: 'new-york' } }, spec: { hostname: 'ny-db', proxy_ids: ['id-chi-1'] } },
  { kind: 'node', metadata: { name: 'n2', labels: { region: 'chicago' } }, spec: { hostname: 'chi-app', proxy_ids: ['id-chi-1'] } },
  { kind: 'node', metadata: { name: 'n3', labels: { region: 'chicago' } }, spec: { hostname: 'legacy' } },
];
const PROXIES = FLEET.proxies.map((p) => ({ kind: 'proxy', metadata: { name: `id-${p.name}` }, spec: { hostname: p.name } }));
const PEERING: ProxyPeering = {
  apiVersion: API_VERSION,
  kind: 'ProxyPeering',
  metadata: { name: 'edge', namespace: 'default' },
  spec: { inventory: { nodes: { url: 'http://inv/nodes' }, proxies: { url: 'http://inv/proxies' } }, dryRun: true },
};

test('peering plan and coverage work offline from a manifest directory and inventory files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-peering-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'fleet.yaml'), `${stringify({ apiVersion: API_VERSION, kind: 'ProxyFleet', metadata: { name: 'demo' }, spec: FLEET })}---\n${stringify(PEERING)}`);
  await writeFile(join(dir, 'nodes.json'), JSON.stringify(NODES));
  await writeFile(join(dir, 'proxies.json'), JSON.stringify(PROXIES));
  const args = ['--manifests', dir, '--nodes', join(dir, 'nodes.json'), '--proxies', join(dir, 'proxies.json')];

  const plan = capture();
  assert.equal(await runCli(['peering', 'plan', ...args], plan), 0, plan.stderr);
  assert.match(plan.stdout, /Links to add \(1\):\n {2}new-york -> chi-1 +2 node\(s\) +Planned/);
  assert.match(plan.stdout, /ny-db +from new-york +via new-york->chi-1: no tunnel to a new-york proxy; new-york->chi-1 reaches its tunnel/);

  const json = capture();
  assert.equal(await runCli(['peering', 'coverage', ...args, '--json'], json), 0, json.stderr);
  const coverage = JSON.parse(json.stdout) as { regions: { region: string; reachable: number; nodes: number; unreachable: { hostname: string }[] }[]; unknown: number };
  assert.deepEqual(coverage.regions.map((r) => [r.region, r.reachable, r.nodes, r.unreachable.map((n) => n.hostname)]), [['chicago', 2, 2, []], ['new-york', 0, 2, ['ny-db', 'chi-app']]]);
  assert.equal(coverage.unknown, 1);

  const bad = capture();
  await writeFile(join(dir, 'nodes.json'), '{"kind": ');
  assert.equal(await runCli(['peering', 'plan', ...args], bad), 1);
  assert.match(bad.stderr, /nodes\.json: not JSON/);
});

test('peering status, coverage and plan read a running controller; before the first plan they say why', async (t) => {
  const proxies = FLEET.proxies.map((p) => ({ name: p.name, region: p.region, up: true, eligible: true }));
  const nodes = [{ id: 'n1', hostname: 'ny-db', region: 'new-york', proxies: ['chi-1'] }];
  const planner = new PeeringPlanner({ proxies, regions: FLEET.regions, holdMs: 0, maxLinksPerProxy: 64 });
  const plan = planner.plan(nodes, [], 0);
  const links = [{ from: 'new-york', to: 'chi-1', since: '2026-01-01T00:00:00.000Z', state: 'Pending' as const, nodes: 1, reason: 'nyc-1: state TRANSIENT_FAILURE' }];
  const before = { phase: 'Converging' as const, message: 'new-york reaches 0/1', links, coverage: [{ region: 'chicago', nodes: 1, reachable: 1, ratio: 1 }, { region: 'new-york', nodes: 1, reachable: 0, ratio: 0 }] };
  // Before the first plan the status has no report; after it, the report the controller keeps.
  let stored: ProxyPeering = { ...PEERING, status: before };
  const planned = () => void (stored = { ...PEERING, status: { ...before, report: buildReport({ proxies, nodes, groups: planner.tunnelGroups, plan, links }, REPORT_EXAMPLES) } });
  const app = await buildAdminApp({
    log: pino({ level: 'silent' }),
    registry: new Registry(),
    notReadyReason: () => undefined,
    fleets: async () => ({ fleets: [] }),
    problems: () => ({ problems: [] }),
    explain: () => undefined,
    ...NO_ROLLOUTS,
    peerings: async () => [stored],
    getPeering: async (ns, name) => (ns === 'default' && name === 'edge' ? stored : undefined),
    proxyTunnels: () => [{ proxy: 'chi-1', region: 'chicago', nodeTunnels: 1, missingTunnels: 0 }],
  });
  t.after(() => app.close());
  const server = await app.listen({ host: '127.0.0.1', port: 0 });

  const early = capture();
  assert.equal(await runCli(['peering', 'plan', '--server', server], early), 1);
  assert.match(early.stderr, /answered 409: ProxyPeering default\/edge has no plan yet/);
  planned();

  const status = capture();
  assert.equal(await runCli(['peering', 'status', '--server', server], status), 0, status.stderr);
  assert.match(status.stdout, /default\/edge: Converging \(dry run\) — new-york reaches 0\/1/);
  assert.match(status.stdout, /new-york +0 +1 +0\.0%/);
  assert.match(status.stdout, /new-york -> chi-1 +Pending +1 node\(s\) +nyc-1: state TRANSIENT_FAILURE/);

  const coverage = capture();
  assert.equal(await runCli(['peering', 'coverage', 'edge', '--server', server], coverage), 0, coverage.stderr);
  assert.match(coverage.stdout, /Unreachable from new-york \(1\):\n {2}ny-db \(new-york; tunnels: chi-1\): no tunnel to a new-york proxy and no link up from new-york to chi-1/);
  assert.match(coverage.stdout, /chi-1 +chicago +1 +0/);

  const planOut = capture();
  assert.equal(await runCli(['peering', 'plan', '--server', server], planOut), 0, planOut.stderr);
  assert.match(planOut.stdout, /Links to add \(1\):\n {2}new-york -> chi-1 +1 node\(s\) +Pending: nyc-1: state TRANSIENT_FAILURE/);
  assert.match(planOut.stdout, /ny-db +from new-york +via new-york->chi-1/);

  const missing = capture();
  assert.equal(await runCli(['peering', 'status', 'nope', '--server', server], missing), 1);
  assert.match(missing.stderr, /answered 404: no ProxyPeering default\/nope/);
});
