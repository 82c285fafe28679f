import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from './cluster.js';
import { clientsFor, GROUP, NS, rejection, rollout, VERSION, type Seen } from './client.js';
import { collect } from './watch-events.js';

const plural = 'proxyrollouts';
const path = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${plural}`;

describe('fault proxy (in front of the backend the environment picks): fault switches', () => {
  let server: TestCluster;
  let c: ReturnType<typeof clientsFor>;
  before(async () => {
    server = await startTestCluster();
    c = clientsFor(server);
    await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('f-a') });
  });
  after(() => server.close());

  const get = () => c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, name: 'f-a' }) as Promise<Seen>;

  it('answers the next N requests with 429 and Retry-After, then serves again', async () => {
    server.faults.failNext(2, 429, { retryAfterSeconds: 3 });
    for (let i = 0; i < 2; i += 1) {
      const err = await get().catch((e: unknown) => e);
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 429);
      assert.equal(err.headers['retry-after'], '3');
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { reason: string; details: { retryAfterSeconds: number } };
      assert.deepEqual([body.reason, body.details.retryAfterSeconds], ['TooManyRequests', 3]);
    }
    assert.equal((await get()).metadata.name, 'f-a');
  });

  it('answers only matching requests with 500', async () => {
    server.faults.failNext(1, 500, { match: (r) => r.verb === 'patch' });
    const current = await get();
    const status = await rejection(
      c.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, name: 'f-a', body: [{ op: 'add', path: '/spec/paused', value: true }] }),
    );
    assert.deepEqual([status.code, status.reason], [500, 'InternalError']);
    assert.equal((await server.get(plural, NS, 'f-a'))?.metadata.resourceVersion, current.metadata.resourceVersion);
  });

  it('closes the connection of the next request without an answer', async () => {
    server.faults.closeNext(1);
    const err = await get().catch((e: unknown) => e);
    assert.ok(err instanceof Error && !(err instanceof ApiException), String(err));
    assert.equal((await get()).metadata.name, 'f-a');
  });

  it('drops open watch streams: the client sees an error', async () => {
    const w = await collect(c.watch, path, { resourceVersion: await server.resourceVersion() });
    assert.equal(server.faults.dropWatches(), 1);
    assert.notEqual(await w.done, null);
  });

  it('silences watches: they stay open and miss events, while new watches after restore get them', async () => {
    const silent = await collect(c.watch, path, { resourceVersion: await server.resourceVersion(), allowWatchBookmarks: true });
    server.faults.silenceWatches();
    const openedSilent = await collect(c.watch, path, { resourceVersion: await server.resourceVersion() });
    server.faults.restoreWatches();
    const live = await collect(c.watch, path, { resourceVersion: await server.resourceVersion() });
    await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('f-b') });
    await live.until('f-b', (e) => e.some((x) => x.object.metadata?.name === 'f-b'));
    assert.deepEqual([silent.events, openedSilent.events], [[], []]);
    assert.equal(server.openWatches(), 3, 'silent streams are still open');
    for (const w of [silent, openedSilent, live]) w.stop();
  });

  it('ends open watch streams cleanly: the client sees the end, not an error', async () => {
    const w = await collect(c.watch, path, { resourceVersion: await server.resourceVersion() });
    assert.equal(server.faults.endWatches(), 1);
    assert.equal(await w.done, null);
  });

  it('closes every connection at once', async () => {
    const w = await collect(c.watch, path, { resourceVersion: await server.resourceVersion() });
    assert.ok(server.faults.closeConnections() >= 1);
    assert.notEqual(await w.done, null);
  });
});

describe('fault proxy: authorization and request hooks', () => {
  it('answers 403 Forbidden with a Status when the authorizer refuses', async (t) => {
    const seen: string[] = [];
    const server = await startTestCluster({ authorize: (r, token) => token === 'admin' || r.verb !== 'create', onRequest: (r, code) => seen.push(`${r.verb} ${r.resource ?? ''} ${code}`) });
    t.after(() => server.close());
    const status = await rejection(clientsFor(server, 'viewer').custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('x') }));
    assert.deepEqual([status.code, status.reason], [403, 'Forbidden']);
    assert.match(status.message ?? '', /User "viewer" cannot create resource "proxyrollouts" in API group "meridian\.dev" in the namespace "meridian"/);
    await clientsFor(server, 'admin').custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('x') });
    assert.equal((await server.list(plural, NS)).filter((o) => o.metadata.name === 'x').length, 1);
    assert.deepEqual(seen, ['create proxyrollouts 403', 'create proxyrollouts 201']);
  });
});
