import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApisApi, KubernetesObjectApi } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from './api-server.js';
import { asMergePatch, asStrategicMergePatch, clientsFor, GROUP, NS, rejection, rollout, VERSION, type Seen } from './client.js';

const plural = 'proxyrollouts';

describe('test API server: custom resources through client-node', () => {
  let server: ApiServer;
  let api: ReturnType<typeof clientsFor>['custom'];
  before(async () => {
    server = await startApiServer();
    api = clientsFor(server).custom;
  });
  after(() => server.close());

  const at = (name: string) => ({ group: GROUP, version: VERSION, namespace: NS, plural, name });

  it('creates with uid, creationTimestamp, generation 1 and a global resourceVersion; status is dropped on create', async () => {
    const before = Number(server.resourceVersion());
    const made = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: { ...rollout('create-a'), status: { phase: 'Done' } } })) as Seen;
    assert.equal(made.metadata.generation, 1);
    assert.match(made.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(made.metadata.creationTimestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(made.metadata.resourceVersion, String(before + 1));
    assert.equal(made.status, undefined);
    const lease = await clientsFor(server).coordination.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'create-a' }, spec: {} } });
    assert.equal(lease.metadata?.resourceVersion, String(before + 2), 'one counter for every kind');
    assert.deepEqual(server.get(plural, NS, 'create-a')?.spec, { version: '17.4.8' });
  });

  it('gets, and lists with the list resourceVersion, a label selector and a metadata.name field selector', async () => {
    for (const [name, team] of [['list-a', 'red'], ['list-b', 'blue'], ['list-c', 'red']] as const) {
      const body = rollout(name);
      await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: { ...body, metadata: { ...body.metadata, labels: { team } } } });
    }
    const got = (await api.getNamespacedCustomObject(at('list-b'))) as Seen;
    assert.equal(got.metadata.labels?.team, 'blue');
    const red = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, labelSelector: 'team=red' })) as { metadata: { resourceVersion: string }; items: Seen[]; kind: string };
    assert.equal(red.kind, 'ProxyRolloutList');
    assert.deepEqual(red.items.map((i) => i.metadata.name), ['list-a', 'list-c']);
    assert.equal(red.metadata.resourceVersion, server.resourceVersion());
    const named = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, fieldSelector: 'metadata.name=list-c' })) as { items: Seen[] };
    assert.deepEqual(named.items.map((i) => i.metadata.name), ['list-c']);
    const page = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, labelSelector: 'team', limit: 2 })) as { metadata: { continue?: string }; items: Seen[] };
    assert.deepEqual(page.items.map((i) => i.metadata.name), ['list-a', 'list-b']);
    const rest = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, labelSelector: 'team', limit: 2, _continue: page.metadata.continue! })) as { metadata: { continue?: string }; items: Seen[] };
    assert.deepEqual([rest.items.map((i) => i.metadata.name), rest.metadata.continue], [['list-c'], undefined]);
    const notBlue = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, labelSelector: 'team!=blue,team' })) as { items: Seen[] };
    assert.deepEqual(notBlue.items.map((i) => i.metadata.name), ['list-a', 'list-c']);
  });

  it('replace bumps generation on a spec change only, and ignores status on the main resource', async () => {
    const made = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('gen-a') })) as Seen;
    const relabelled = (await api.replaceNamespacedCustomObject({
      ...at('gen-a'),
      body: { ...made, metadata: { ...made.metadata, labels: { x: 'y' } }, status: { phase: 'Ignored' } },
    })) as Seen;
    assert.equal(relabelled.metadata.generation, 1, 'metadata changes keep generation');
    assert.equal(relabelled.status, undefined, 'status is not written through the main resource');
    const respecced = (await api.replaceNamespacedCustomObject({ ...at('gen-a'), body: { ...relabelled, spec: { version: '17.5.0' } } })) as Seen;
    assert.equal(respecced.metadata.generation, 2);
    const withStatus = (await api.replaceNamespacedCustomObjectStatus({ ...at('gen-a'), body: { ...respecced, spec: { version: '99.0.0' }, status: { phase: 'Running', observedGeneration: 2 } } })) as Seen;
    assert.equal(withStatus.metadata.generation, 2, 'status writes keep generation');
    assert.deepEqual(server.get(plural, NS, 'gen-a')?.spec, { version: '17.5.0' }, '/status changes status only');
    assert.deepEqual(server.get(plural, NS, 'gen-a')?.status, { phase: 'Running', observedGeneration: 2 });
    await api.replaceNamespacedCustomObject({ ...at('gen-a'), body: { ...withStatus, status: { phase: 'Overwritten' } } });
    assert.deepEqual(server.get(plural, NS, 'gen-a')?.status, { phase: 'Running', observedGeneration: 2 }, 'a main-resource PUT keeps the stored status');
  });

  it('a status PUT replaces status whole: keys the writer removed are gone', async () => {
    const made = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('status-a') })) as Seen;
    const first = (await api.replaceNamespacedCustomObjectStatus({ ...at('status-a'), body: { ...made, status: { phase: 'Running', inFlight: { proxy: 'p1' } } } })) as Seen;
    await api.replaceNamespacedCustomObjectStatus({ ...at('status-a'), body: { ...first, status: { phase: 'Running' } } });
    assert.deepEqual(server.get(plural, NS, 'status-a')?.status, { phase: 'Running' });
  });

  it('refuses a PUT with a stale resourceVersion (409 Conflict) and without one (422, as for custom resources upstream)', async () => {
    const made = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('conflict-a') })) as Seen;
    await api.replaceNamespacedCustomObjectStatus({ ...at('conflict-a'), body: { ...made, status: { phase: 'Running' } } });
    const stale = await rejection(api.replaceNamespacedCustomObjectStatus({ ...at('conflict-a'), body: { ...made, status: { phase: 'Failed' } } }));
    assert.equal(stale.code, 409);
    assert.equal(stale.reason, 'Conflict');
    assert.equal(stale.kind, 'Status');
    assert.match(stale.message ?? '', /Operation cannot be fulfilled on proxyrollouts\.meridian\.dev "conflict-a": the object has been modified/);
    assert.deepEqual(stale.details, { name: 'conflict-a', group: GROUP, kind: plural });
    const { resourceVersion: _rv, ...noVersion } = made.metadata;
    const missing = await rejection(api.replaceNamespacedCustomObject({ ...at('conflict-a'), body: { ...made, metadata: noVersion } }));
    assert.equal(missing.code, 422);
    assert.equal(missing.details?.causes?.[0]?.field, 'metadata.resourceVersion');
    assert.deepEqual(server.get(plural, NS, 'conflict-a')?.status, { phase: 'Running' });
  });

  it('answers AlreadyExists, NotFound and a bad path with Status objects', async () => {
    await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('dup-a') });
    const dup = await rejection(api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('dup-a') }));
    assert.deepEqual([dup.code, dup.reason, dup.message], [409, 'AlreadyExists', 'proxyrollouts.meridian.dev "dup-a" already exists']);
    const missing = await rejection(api.getNamespacedCustomObject(at('nope')));
    assert.deepEqual([missing.code, missing.reason, missing.status], [404, 'NotFound', 'Failure']);
    const noKind = await rejection(api.getNamespacedCustomObject({ ...at('x'), plural: 'widgets' }));
    assert.equal(noKind.code, 404);
  });

  it('merge-patches and JSON-patches spec (generation follows), and patches status through /status', async () => {
    await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('patch-a', { version: '17.4.8', paused: false }) });
    const merged = (await api.patchNamespacedCustomObject({ ...at('patch-a'), body: { spec: { paused: true } } }, asMergePatch)) as Seen;
    assert.deepEqual(merged.spec, { version: '17.4.8', paused: true });
    assert.equal(merged.metadata.generation, 2);
    const jsonPatched = (await api.patchNamespacedCustomObject({ ...at('patch-a'), body: [{ op: 'remove', path: '/spec/paused' }] })) as Seen;
    assert.deepEqual(jsonPatched.spec, { version: '17.4.8' });
    assert.equal(jsonPatched.metadata.generation, 3);
    await api.patchNamespacedCustomObjectStatus({ ...at('patch-a'), body: { status: { phase: 'Paused' }, spec: { version: '1.0.0' } } }, asMergePatch);
    const stored = server.get(plural, NS, 'patch-a');
    assert.deepEqual([stored?.spec, stored?.status, stored?.metadata.generation], [{ version: '17.4.8' }, { phase: 'Paused' }, 3]);
  });

  it('refuses a patch carrying a stale resourceVersion, a failed JSON patch test, and strategic merge on custom resources (415)', async () => {
    const made = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('patch-b') })) as Seen;
    await api.patchNamespacedCustomObject({ ...at('patch-b'), body: { spec: { paused: true } } }, asMergePatch);
    const stale = await rejection(api.patchNamespacedCustomObject({ ...at('patch-b'), body: { metadata: { resourceVersion: made.metadata.resourceVersion }, spec: { paused: false } } }, asMergePatch));
    assert.equal(stale.code, 409);
    const failedTest = await rejection(api.patchNamespacedCustomObject({ ...at('patch-b'), body: [{ op: 'test', path: '/spec/paused', value: false }, { op: 'replace', path: '/spec/paused', value: false }] }));
    assert.equal(failedTest.code, 422);
    const strategic = await rejection(api.patchNamespacedCustomObject({ ...at('patch-b'), body: { spec: { paused: false } } }, asStrategicMergePatch));
    assert.deepEqual([strategic.code, strategic.reason], [415, 'UnsupportedMediaType']);
    assert.deepEqual(server.get(plural, NS, 'patch-b')?.spec, { version: '17.4.8', paused: true });
  });

  it('does not write an update that changes nothing (same resourceVersion)', async () => {
    const made = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('noop-a') })) as Seen;
    const again = (await api.replaceNamespacedCustomObject({ ...at('noop-a'), body: made })) as Seen;
    assert.equal(again.metadata.resourceVersion, made.metadata.resourceVersion);
  });

  it('serves discovery: client-node\'s KubernetesObjectApi finds the plural through it', async () => {
    const kc = clientsFor(server).kc;
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    assert.deepEqual(groups.groups.map((g) => g.name).sort(), ['coordination.k8s.io', GROUP]);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.create({ ...rollout('disc-a') });
    const read = (await objects.read({ apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyRollout', metadata: { name: 'disc-a', namespace: NS } })) as unknown as Seen;
    assert.equal(read.metadata.generation, 1);
  });

  it('deletes, answering with the object; a second delete is NotFound', async () => {
    await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('del-a') });
    const gone = (await api.deleteNamespacedCustomObject(at('del-a'))) as Seen;
    assert.equal(gone.metadata.name, 'del-a');
    assert.equal(server.get(plural, NS, 'del-a'), undefined);
    assert.equal((await rejection(api.deleteNamespacedCustomObject(at('del-a')))).code, 404);
  });
});
