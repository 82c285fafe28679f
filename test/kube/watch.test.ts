import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from './api-server.js';
import { asMergePatch, clientsFor, GROUP, NS, rollout, VERSION, type Seen } from './client.js';
import { collect } from './watch-events.js';
import { waitFor } from '../helpers/wait.js';

const plural = 'proxyrollouts';
const path = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${plural}`;

describe('test API server: watches through client-node', () => {
  let server: ApiServer;
  let c: ReturnType<typeof clientsFor>;
  before(async () => {
    server = await startApiServer();
    c = clientsFor(server);
  });
  after(() => server.close());

  const create = async (name: string, labels?: Record<string, string>): Promise<Seen> => {
    const body = rollout(name);
    return (await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: { ...body, metadata: { ...body.metadata, ...(labels ? { labels } : {}) } } })) as Seen;
  };
  const at = (name: string) => ({ group: GROUP, version: VERSION, namespace: NS, plural, name });

  it('delivers ADDED, MODIFIED and DELETED after the resourceVersion it starts from, each with its resourceVersion', async () => {
    const from = server.resourceVersion();
    const w = await collect(c.watch, path, { resourceVersion: from, fieldSelector: 'metadata.name=w-a' });
    await create('w-a');
    await create('w-other');
    await c.custom.patchNamespacedCustomObject({ ...at('w-a'), body: { spec: { paused: true } } }, asMergePatch);
    await c.custom.deleteNamespacedCustomObject(at('w-a'));
    await w.until('three events', (e) => e.length >= 3);
    w.stop();
    assert.deepEqual(w.events.map((e) => [e.type, e.object.metadata?.name]), [['ADDED', 'w-a'], ['MODIFIED', 'w-a'], ['DELETED', 'w-a']]);
    const rvs = w.events.map((e) => Number(e.object.metadata?.resourceVersion));
    assert.ok(rvs[0]! > Number(from) && rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, `increasing: ${rvs.join(',')}`);
  });

  it('replays history from an older resourceVersion, and the current objects as ADDED without one', async () => {
    const from = server.resourceVersion();
    await create('replay-a');
    await c.custom.patchNamespacedCustomObject({ ...at('replay-a'), body: { spec: { paused: true } } }, asMergePatch);
    const replay = await collect(c.watch, path, { resourceVersion: from });
    await replay.until('two events', (e) => e.length >= 2);
    replay.stop();
    assert.deepEqual(replay.events.map((e) => e.type), ['ADDED', 'MODIFIED']);
    const fresh = await collect(c.watch, path, { fieldSelector: 'metadata.name=replay-a' });
    await fresh.until('the current object', (e) => e.length >= 1);
    fresh.stop();
    assert.deepEqual(fresh.events.map((e) => [e.type, e.object.metadata?.resourceVersion]), [['ADDED', server.get(plural, NS, 'replay-a')?.metadata.resourceVersion]]);
  });

  it('turns an object leaving or entering the label selector into DELETED and ADDED', async () => {
    await create('sel-a', { ring: 'canary' });
    const w = await collect(c.watch, path, { resourceVersion: server.resourceVersion(), labelSelector: 'ring=canary' });
    await c.custom.patchNamespacedCustomObject({ ...at('sel-a'), body: { metadata: { labels: { ring: 'main' } } } }, asMergePatch);
    await c.custom.patchNamespacedCustomObject({ ...at('sel-a'), body: { metadata: { labels: { ring: 'canary' } } } }, asMergePatch);
    await w.until('two events', (e) => e.length >= 2);
    w.stop();
    assert.deepEqual(w.events.map((e) => e.type), ['DELETED', 'ADDED']);
  });

  it('sends BOOKMARKs with the current resourceVersion only to watches that allow them', async () => {
    const withMarks = await collect(c.watch, path, { resourceVersion: server.resourceVersion(), allowWatchBookmarks: true });
    const without = await collect(c.watch, path, { resourceVersion: server.resourceVersion() });
    await create('mark-a');
    server.bookmarkNow();
    await create('mark-b');
    await withMarks.until('a bookmark and mark-b', (e) => e.some((x) => x.object.metadata?.name === 'mark-b'));
    await without.until('mark-b', (e) => e.some((x) => x.object.metadata?.name === 'mark-b'));
    withMarks.stop();
    without.stop();
    assert.deepEqual(withMarks.events.map((e) => e.type), ['ADDED', 'BOOKMARK', 'ADDED']);
    const mark = withMarks.events[1]!.object;
    assert.equal(mark.kind, 'ProxyRollout');
    assert.equal(mark.metadata?.resourceVersion, withMarks.events[0]!.object.metadata?.resourceVersion);
    assert.deepEqual(without.events.map((e) => e.type), ['ADDED', 'ADDED']);
  });

  it('answers a watch from a compacted resourceVersion with an in-stream 410 ERROR, then ends the stream', async () => {
    await create('old-a');
    const old = server.resourceVersion();
    await create('old-b');
    server.compact();
    const w = await collect(c.watch, path, { resourceVersion: old });
    assert.equal(await w.done, null);
    assert.deepEqual(w.events.map((e) => [e.type, e.object.kind, e.object.code, e.object.reason]), [['ERROR', 'Status', 410, 'Expired']]);
  });

  it('ends the stream after timeoutSeconds', async () => {
    const w = await collect(c.watch, path, { resourceVersion: server.resourceVersion(), timeoutSeconds: 1 });
    assert.equal(await w.done, null);
  });

  it('lets client-node\'s informer relist after a 410 when its watch is ended and resumed', async () => {
    const list = () => c.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural }) as Promise<{ items: KubernetesObject[] }>;
    const informer = makeInformer(c.kc, path, list as never);
    await informer.start();
    await create('inf-a');
    const seen = () => informer.list(NS).map((o) => o.metadata?.name);
    await waitFor('inf-a in the cache', async () => (seen().includes('inf-a') ? true : undefined));
    server.compact();
    await create('inf-b');
    server.faults.endWatches();
    await waitFor('inf-b in the cache after a relist', async () => (seen().includes('inf-b') ? true : undefined));
    await informer.stop();
    assert.ok(seen().includes('inf-a') && seen().includes('inf-b'));
  });
});

describe('test API server: 410 as an HTTP status', () => {
  it('refuses a watch from a compacted resourceVersion with a 410 response when set to', async (t) => {
    const server = await startApiServer({ expiredWatchAs: 'http' });
    t.after(() => server.close());
    const c = clientsFor(server);
    await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('x') });
    const old = server.resourceVersion();
    await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('y') });
    server.compact();
    const w = await collect(c.watch, path, { resourceVersion: old });
    const err = (await w.done) as { statusCode?: number };
    assert.equal(err.statusCode, 410);
    assert.equal(w.events.length, 0);
  });
});
