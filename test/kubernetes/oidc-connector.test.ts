import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { oidcConnectors } from '../../src/adapters/kubernetes/oidc-connector.js';
import { startApiServer } from '../kube/api-server.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { asMergePatch, clientsFor, NS } from '../kube/client.js';
import { CALLBACKS, connector, TELEPORT, TELEPORT_CRD } from '../oidc/teleport-operator.js';

describe('TeleportOIDCConnector redirect_url through client-node, against the test API server with the operator CRD', () => {
  let server: TestCluster;
  let c: ReturnType<typeof clientsFor>;
  let sync: ReturnType<typeof oidcConnectors>['syncRedirectUrls'];
  const stored = async (name: string) => (await server.get(TELEPORT.plural, NS, name)) as ReturnType<typeof connector> & { metadata: { resourceVersion: string; generation: number } };

  before(async () => {
    server = await startTestCluster({ extraCrds: [TELEPORT_CRD] });
    c = clientsFor(server);
    const kc = new KubeConfig();
    kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
    sync = oidcConnectors(kc).syncRedirectUrls;
  });
  after(() => server.close());

  it('sets the list and keeps every other field; a second sync writes nothing', async () => {
    await c.custom.createNamespacedCustomObject({ ...TELEPORT, namespace: NS, body: connector('okta') });
    assert.deepEqual(await sync({ namespace: NS, name: 'okta' }, CALLBACKS), { ok: true, value: { outcome: 'updated' } });
    const after = await stored('okta');
    assert.deepEqual(after.spec, { ...connector('okta').spec, redirect_url: CALLBACKS });
    assert.deepEqual(after.metadata.labels, { team: 'access' });
    assert.equal(after.metadata.generation, 2, 'a spec change: the operator reconciles on generation changes');
    assert.deepEqual(await sync({ namespace: NS, name: 'okta' }, CALLBACKS), { ok: true, value: { outcome: 'unchanged' } });
    assert.equal((await stored('okta')).metadata.resourceVersion, after.metadata.resourceVersion);
  });

  it('puts the order back: Teleport falls back to the first entry', async () => {
    await c.custom.createNamespacedCustomObject({ ...TELEPORT, namespace: NS, body: connector('order', { redirect: [...CALLBACKS].reverse() }) });
    assert.deepEqual(await sync({ namespace: NS, name: 'order' }, CALLBACKS), { ok: true, value: { outcome: 'updated' } });
    assert.deepEqual((await stored('order')).spec.redirect_url, CALLBACKS);
  });

  it('a missing connector is an error naming it, and nothing is created', async () => {
    const r = await sync({ namespace: NS, name: 'absent' }, CALLBACKS);
    assert.deepEqual(r, { ok: false, error: `TeleportOIDCConnector ${NS}/absent: not found (create it, or name another connector in spec.oidcConnector)` });
    assert.equal(await server.get(TELEPORT.plural, NS, 'absent'), undefined);
  });

  it("says when the operator will not carry the list to Teleport: its ignore annotation, or a failed condition", async () => {
    await c.custom.createNamespacedCustomObject({ ...TELEPORT, namespace: NS, body: connector('ignored', { annotations: { 'teleport.dev/ignore': 'true' } }) });
    assert.deepEqual(await sync({ namespace: NS, name: 'ignored' }, CALLBACKS), {
      ok: true,
      value: { outcome: 'updated', warning: 'annotated teleport.dev/ignore=true: the Teleport operator does not carry it to Teleport' },
    });
    assert.deepEqual((await stored('ignored')).spec.redirect_url, CALLBACKS);

    await c.custom.createNamespacedCustomObject({ ...TELEPORT, namespace: NS, body: connector('refused', { redirect: CALLBACKS }) });
    const condition = { type: 'TeleportResourceOwned', status: 'False', reason: 'OriginLabelNotMatching', message: 'Resource exists in Teleport and is not owned by the operator', lastTransitionTime: '2026-01-05T10:00:00Z' };
    await c.custom.patchNamespacedCustomObjectStatus({ ...TELEPORT, namespace: NS, name: 'refused', body: { status: { conditions: [condition] } } }, asMergePatch);
    assert.deepEqual(await sync({ namespace: NS, name: 'refused' }, CALLBACKS), {
      ok: true,
      value: { outcome: 'unchanged', warning: 'the Teleport operator reports TeleportResourceOwned=False: Resource exists in Teleport and is not owned by the operator' },
    });
  });

  it('writes nothing once the signal is aborted (the replica stopped leading)', async () => {
    await c.custom.createNamespacedCustomObject({ ...TELEPORT, namespace: NS, body: connector('late') });
    const before = await stored('late');
    const r = await sync({ namespace: NS, name: 'late' }, CALLBACKS, AbortSignal.abort());
    assert.equal(r.ok, false);
    assert.deepEqual(await stored('late'), before);
  });
});

// In-process in every mode: an existing cluster may have the operator's CRD (the test above leaves it installed, as envtest does).
it('without the Teleport operator CRD the error says so', async (t) => {
  const server = await startApiServer();
  t.after(() => server.close());
  const kc = new KubeConfig();
  kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
  const r = await oidcConnectors(kc).syncRedirectUrls({ namespace: NS, name: 'okta' }, CALLBACKS);
  assert.deepEqual(r, { ok: false, error: `TeleportOIDCConnector ${NS}/okta: the API server does not serve teleportoidcconnectors.resources.teleport.dev/v3: is the Teleport operator installed?` });
});
