// The RBAC the chart grants is what the controller's Kubernetes calls need, and no more: the calls are read from the
// sources (every file that imports @kubernetes/client-node), each client-node method mapped to the verb the API
// server checks for it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderChart } from '../../scripts/chart-render.js';
import { EVERYTHING_ON } from './chart-values.js';

const SRC = new URL('../../src/', import.meta.url).pathname;
const MERIDIAN = ['proxyfleets', 'proxyrollouts', 'proxycanaries', 'proxypeerings'].map((r) => `meridian.dev/${r}`);
const OIDC = ['resources.teleport.dev/teleportoidcconnectors'];

/** client-node method → verb and which part of the resource; custom objects are Meridian's kinds or, in a file that names resources.teleport.dev, the OIDC connector. */
const METHODS: Record<string, { verb: string; resource: 'custom' | 'custom-status' | 'leases' | 'events' }> = {
  listNamespacedCustomObject: { verb: 'list', resource: 'custom' },
  listClusterCustomObject: { verb: 'list', resource: 'custom' },
  getNamespacedCustomObject: { verb: 'get', resource: 'custom' },
  replaceNamespacedCustomObject: { verb: 'update', resource: 'custom' },
  patchNamespacedCustomObject: { verb: 'patch', resource: 'custom' },
  createNamespacedCustomObject: { verb: 'create', resource: 'custom' },
  replaceNamespacedCustomObjectStatus: { verb: 'update', resource: 'custom-status' },
  patchNamespacedCustomObjectStatus: { verb: 'patch', resource: 'custom-status' },
  readNamespacedLease: { verb: 'get', resource: 'leases' },
  createNamespacedLease: { verb: 'create', resource: 'leases' },
  replaceNamespacedLease: { verb: 'update', resource: 'leases' },
  createNamespacedEvent: { verb: 'create', resource: 'events' },
  patchNamespacedEvent: { verb: 'patch', resource: 'events' },
};

function clientFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return clientFiles(path);
    return e.name.endsWith('.ts') && readFileSync(path, 'utf8').includes("from '@kubernetes/client-node'") ? [path] : [];
  });
}

/** `group/resource[/sub]:verb` for every call in the sources. */
function neededPermissions(): Set<string> {
  const needed = new Set<string>();
  for (const file of clientFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const customs = text.includes('resources.teleport.dev') ? OIDC : MERIDIAN;
    const eventsGroup = text.includes('EventsV1Api') ? 'events.k8s.io' : '';
    for (const [, method] of text.matchAll(/\.((?:list|read|get|create|replace|patch|delete|deleteCollection)(?:Namespaced|Cluster)\w+)\(/g)) {
      const m = METHODS[method ?? ''];
      assert.ok(m, `${file}: ${method} is not in this test's table of client-node methods: add the verb it needs`);
      const resources = m.resource === 'leases' ? ['coordination.k8s.io/leases'] : m.resource === 'events' ? [`${eventsGroup}/events`] : customs.map((r) => (m.resource === 'custom-status' ? `${r}/status` : r));
      // The store creates only the canary's held-back ProxyRollout (src/canary/canary-reconciler.ts).
      const created = m.verb === 'create' && m.resource === 'custom' && customs === MERIDIAN ? ['meridian.dev/proxyrollouts'] : resources;
      for (const r of created) needed.add(`${r}:${m.verb}`);
    }
    // client-node's Watch streams the lists the reflectors make.
    if (/new Watch\(/.test(text)) for (const r of customs) needed.add(`${r}:watch`);
  }
  return needed;
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

function granted(values: Record<string, unknown>): { controller: Set<string>; leases: Rule[]; scope: string } {
  const objects = renderChart({ values }).objects.map((o) => o.object as { kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[] });
  const roles = objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
  const leader = roles.find((r) => r.metadata.name.endsWith('-leader-election'));
  const controller = roles.filter((r) => r !== leader);
  assert.equal(controller.length, 1);
  const grants = new Set<string>();
  for (const rule of controller[0]?.rules ?? []) {
    assert.equal(rule.resourceNames, undefined);
    for (const g of rule.apiGroups) for (const r of rule.resources) for (const v of rule.verbs) grants.add(`${g}/${r}:${v}`);
  }
  for (const r of roles) for (const rule of r.rules ?? []) assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.apiGroups.includes('*'), `${r.metadata.name}: no wildcards`);
  return { controller: grants, leases: leader?.rules ?? [], scope: `${controller[0]?.kind} in ${controller[0]?.metadata.namespace ?? 'every namespace'}` };
}

test("the chart grants every call the controller makes on its resources, and only those", () => {
  const needed = neededPermissions();
  assert.ok([...needed].some((p) => p.startsWith('meridian.dev/proxyrollouts/status:')), `read the sources: ${[...needed].join(' ')}`);
  const forResources = new Set([...needed].filter((p) => !p.startsWith('coordination.k8s.io/')));
  for (const values of [{}, EVERYTHING_ON]) {
    const { controller } = granted(values);
    // The OIDC connector is called only when a fleet names one, and granted only when enabled.
    const called = [...forResources].filter((p) => values === EVERYTHING_ON || !OIDC.some((r) => p.startsWith(`${r}:`)));
    for (const p of called) assert.ok(controller.has(p), `the controller calls ${p}: the chart must grant it`);
    const extra = [...controller].filter((p) => !called.includes(p));
    assert.deepEqual(extra, [], 'granted but never called');
  }
  assert.ok(![...granted({}).controller].some((p) => p.startsWith('resources.teleport.dev/')), 'the OIDC connector only when enabled');
});

test('the Lease: created in the release namespace, then read and updated by its name alone', () => {
  const needed = [...neededPermissions()].filter((p) => p.startsWith('coordination.k8s.io/')).map((p) => p.split(':')[1]).sort();
  assert.deepEqual(needed, ['create', 'get', 'update']);
  const { leases } = granted({ leaseName: 'edge-leader' });
  assert.deepEqual(leases, [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['edge-leader'], verbs: ['get', 'update'] },
  ]);
});

test('one namespace gets a Role there; all namespaces a ClusterRole', () => {
  assert.equal(granted({}).scope, 'Role in meridian');
  assert.equal(granted({ watch: { namespace: 'teleport' } }).scope, 'Role in teleport');
  assert.equal(granted({ watch: { allNamespaces: true } }).scope, 'ClusterRole in every namespace');
});
