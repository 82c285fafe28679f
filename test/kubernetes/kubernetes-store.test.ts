import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { parseAllDocuments } from 'yaml';
import { KubernetesStore } from '../../src/adapters/kubernetes/kubernetes-store.js';
import type { ProxyFleet } from '../../src/model/fleet.js';
import type { ResourceKey } from '../../src/model/resource.js';
import { Conflict } from '../../src/model/store.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { asMergePatch, clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';

const realTimers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
const fleetDoc = parseAllDocuments(await readFile(new URL('../../examples/fleet/fleet.yaml', import.meta.url), 'utf8'))
  .map((d) => d.toJSON() as { kind?: string; metadata: Record<string, unknown> })
  .find((d) => d.kind === 'ProxyFleet') as unknown as ProxyFleet;

describe('KubernetesStore against the test API server', () => {
  let server: TestCluster;
  let c: ReturnType<typeof clientsFor>;
  let store: KubernetesStore;
  const keys: ResourceKey[] = [];
  before(async () => {
    server = await startTestCluster();
    c = clientsFor(server);
    await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyfleets', body: { ...fleetDoc, metadata: { name: 'demo' } } });
    const kc = new KubeConfig();
    kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
    store = new KubernetesStore({ kubeConfig: kc, namespace: NS, timers: realTimers, log: pino({ level: 'silent' }) });
    store.watch((k) => keys.push(k));
    await store.start();
  });
  after(async () => {
    await store.close();
    await server.close();
  });

  it('is synced at start: the objects listed, frozen, with the server metadata', async () => {
    const [fleet] = await store.list('ProxyFleet');
    assert.equal(fleet?.metadata.name, 'demo');
    assert.equal(fleet?.metadata.namespace, NS);
    assert.equal(fleet?.metadata.generation, 1);
    assert.ok(fleet?.metadata.resourceVersion);
    assert.ok(Object.isFrozen(fleet) && Object.isFrozen(fleet.spec.proxies));
    assert.equal((await store.get('ProxyFleet', NS, 'demo'))?.spec.proxies.length, fleetDoc.spec.proxies.length);
  });

  it('writes status to the subresource twice in a row (the second names the first one’s resourceVersion)', async () => {
    await store.updateStatus('ProxyFleet', NS, 'demo', { observedGeneration: 1, proxies: 1 } as never);
    await store.updateStatus('ProxyFleet', NS, 'demo', { observedGeneration: 1, proxies: 2 } as never);
    assert.deepEqual((await server.get('proxyfleets', NS, 'demo'))?.['status'], { observedGeneration: 1, proxies: 2 });
    assert.equal(((await server.get('proxyfleets', NS, 'demo'))?.['metadata'] as { generation?: number }).generation, 1);
  });

  it('a status write over a newer version is a Conflict; after the watch catches up it goes through', async () => {
    server.faults.silenceWatches();
    await c.custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyfleets', name: 'demo', body: { status: { proxies: 99 } } }, asMergePatch);
    await assert.rejects(store.updateStatus('ProxyFleet', NS, 'demo', { proxies: 3 } as never), Conflict);
    server.faults.restoreWatches();
    // The silenced stream is restarted after the inactivity deadline; here a new write brings the watch back sooner.
    await store.close();
    const kc = new KubeConfig();
    kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
    store = new KubernetesStore({ kubeConfig: kc, namespace: NS, timers: realTimers, log: pino({ level: 'silent' }) });
    store.watch((k) => keys.push(k));
    await store.start();
    await store.updateStatus('ProxyFleet', NS, 'demo', { proxies: 3 } as never);
    assert.deepEqual((await server.get('proxyfleets', NS, 'demo'))?.['status'], { proxies: 3 });
  });

  it('spec edits arrive by the watch as a key; a merge patch of spec bumps the generation', async () => {
    const seen = keys.length;
    await store.patchSpec('ProxyFleet', NS, 'demo', { auth: null });
    await waitFor('the watch', async () => ((await store.get('ProxyFleet', NS, 'demo'))?.metadata.generation === 2 ? true : undefined));
    assert.ok(keys.slice(seen).some((k) => k.kind === 'ProxyFleet' && k.name === 'demo'));
  });

  it('an object the schema lets through but Meridian refuses is a problem; its last valid version stays in force', async () => {
    const before = await store.get('ProxyFleet', NS, 'demo');
    const regions = (before?.spec.regions ?? []).map((r, i) => (i === 0 ? { ...r, timeZone: 'Mars/Olympus' } : r));
    await c.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyfleets', name: 'demo', body: { spec: { regions } } }, asMergePatch);
    await waitFor('the problem', async () => (store.problems().length ? true : undefined));
    assert.match(store.problems()[0]?.error.message ?? '', /unknown IANA time zone "Mars\/Olympus"/);
    assert.equal(store.problems()[0]?.source, `ProxyFleet/${NS}/demo`);
    assert.equal((await store.get('ProxyFleet', NS, 'demo'))?.spec.regions[0]?.timeZone, before?.spec.regions[0]?.timeZone);
    // Status still goes to the newest version (its resourceVersion is the one to name).
    await store.updateStatus('ProxyFleet', NS, 'demo', { proxies: 4 } as never);
    assert.deepEqual((await server.get('proxyfleets', NS, 'demo'))?.['status'], { proxies: 4 });
  });

  it('create of an object that already exists is done, not an error', async () => {
    const fleet = await store.get('ProxyFleet', NS, 'demo');
    assert.ok(fleet);
    await store.create({ ...fleet, metadata: { name: 'demo', namespace: NS } });
    assert.equal((await server.list('proxyfleets', NS)).length, 1);
  });
});
