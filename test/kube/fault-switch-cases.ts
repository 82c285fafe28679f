// The fault switches' cases, run against each implementation: the in-process server's own
// (faults.test.ts) and the forwarding proxy in front of whichever backend runs (fault-proxy.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import type { ApiServer } from './api-server.js';
import type { TestCluster } from './cluster.js';
import { clientsFor, GROUP, NS, rejection, rollout, VERSION, type Seen } from './client.js';
import type { Authorizer } from './routes.js';
import type { RequestInfo } from './faults.js';
import { collect } from './watch-events.js';

const plural = 'proxyrollouts';
const path = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${plural}`;

/** What either implementation offers the cases; the in-process server reads synchronously. */
type Server = Pick<ApiServer | TestCluster, 'kubeconfig' | 'faults' | 'openWatches' | 'close'> & {
  get(plural: string, namespace: string, name: string): unknown;
  list(plural: string, namespace?: string): unknown;
  resourceVersion(): string | Promise<string>;
  /** In-process only: a BOOKMARK now on every watch that allows them. */
  bookmarkNow?: () => void;
};

type Start = (options?: { authorize?: Authorizer; onRequest?: (info: RequestInfo, statusCode: number) => void }) => Promise<Server>;

export function faultSwitchCases(what: string, start: Start): void {
  describe(`${what}: fault switches`, () => {
    let server: Server;
    let c: ReturnType<typeof clientsFor>;
    before(async () => {
      server = await start();
      c = clientsFor(server);
      await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('f-a') });
    });
    after(() => server.close());

    const get = () => c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, name: 'f-a' }) as Promise<Seen>;
    const stored = async (name: string) => (await server.get(plural, NS, name)) as Seen | undefined;

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
      assert.equal((await stored('f-a'))?.metadata.resourceVersion, current.metadata.resourceVersion);
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

    it('silences watches: they stay open and miss events (and bookmarks), while new watches after restore get them', async () => {
      const silent = await collect(c.watch, path, { resourceVersion: await server.resourceVersion(), allowWatchBookmarks: true });
      server.faults.silenceWatches();
      const openedSilent = await collect(c.watch, path, { resourceVersion: await server.resourceVersion() });
      server.faults.restoreWatches();
      const live = await collect(c.watch, path, { resourceVersion: await server.resourceVersion() });
      await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('f-b') });
      server.bookmarkNow?.();
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

  describe(`${what}: authorization and request hooks`, () => {
    it('answers 403 Forbidden with a Status when the authorizer refuses', async (t) => {
      const seen: string[] = [];
      const server = await start({ authorize: (r, token) => token === 'admin' || r.verb !== 'create', onRequest: (r, code) => seen.push(`${r.verb} ${r.resource ?? ''} ${code}`) });
      t.after(() => server.close());
      const status = await rejection(clientsFor(server, 'viewer').custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('x') }));
      assert.deepEqual([status.code, status.reason], [403, 'Forbidden']);
      assert.match(status.message ?? '', /User "viewer" cannot create resource "proxyrollouts" in API group "meridian\.dev" in the namespace "meridian"/);
      await clientsFor(server, 'admin').custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout('x') });
      assert.equal(((await server.list(plural, NS)) as Seen[]).filter((o) => o.metadata.name === 'x').length, 1);
      assert.deepEqual(seen, ['create proxyrollouts 403', 'create proxyrollouts 201']);
    });
  });
}
