import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxyRolloutStatus } from '../../src/model/rollout.js';
import { asMergePatch, clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';
import { startDemoWorld, type DemoWorld } from './demo-world.js';
import { assertSameEndState, RUN_MEASURED } from './end-state.js';
import { startCluster, type Cluster } from './replicas.js';
import { startStandalone, type Standalone } from './standalone.js';

const ROLLOUT = 'follow-the-sun';
const TARGET = '17.4.8';
const INJECTED = 'written by another writer between the controller’s read and its write';
/** What the simulator's traffic decides, not the controller: sessions cut by drains, and the notices' session counts. */
const MEASURED = ['sessionsCut', 'proxies.*.sessionsCut', 'proxies.*.sessionsAtDrain', 'notices.*.sessions'];

const finished = (s: ProxyRolloutStatus): ProxyRolloutStatus | undefined => (s.phase === 'Completed' || s.phase === 'Failed' ? s : undefined);

/**
 * Kubernetes mode end to end: the demo fleet's ProxyFleet and its follow-the-sun ProxyRollout
 * (made to run now) in the test API server, the bundled simulator playing the proxies, and two
 * controller replicas electing a leader on a Lease; alongside, the same manifests in standalone
 * mode on a simulator of their own, for the end state to compare with.
 */
describe('two replicas on the API server', { timeout: 120_000 }, () => {
  let kube: DemoWorld;
  let alone: DemoWorld;
  let cluster: Cluster;
  let standalone: Standalone;
  /** Rollout status writes the API server refused as stale (409). */
  let conflicts = 0;
  let injected = false;

  before(async () => {
    // One after the other: each takes the ports free when it starts.
    kube = await startDemoWorld();
    alone = await startDemoWorld();
    const { fleet, rollout } = kube.manifests;
    cluster = await startCluster(kube, [fleet, rollout], {
      // Before the first rollout status write goes through, another writer changes the status: the write is stale.
      before: async (req, server) => {
        if (injected || req.method !== 'PUT' || !req.url?.includes(`/proxyrollouts/${ROLLOUT}/status`)) return;
        injected = true;
        const { custom } = clientsFor(server);
        await custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyrollouts', name: ROLLOUT, body: { status: { message: INJECTED } } }, asMergePatch);
      },
      onRequest: (info, status) => {
        if (info.method === 'PUT' && info.resource === 'proxyrollouts' && info.subresource === 'status' && status === 409) conflicts++;
      },
    });
    standalone = await startStandalone(alone, [alone.manifests.fleet, alone.manifests.rollout]);
  });

  after(async () => {
    await standalone?.handle.close().catch(() => undefined);
    await cluster?.close();
    await Promise.all([kube?.close(), alone?.close()]);
  });

  const rolloutStatus = (): ProxyRolloutStatus => cluster.status<ProxyRolloutStatus>('ProxyRollout', ROLLOUT);

  it('elects one leader; both replicas answer the login URL and are ready', async () => {
    const leader = await cluster.leader();
    assert.deepEqual((await Promise.all(cluster.replicas.map(cluster.leading))).sort(), [0, 1]);
    assert.equal(cluster.holder(), leader.id);
    for (const r of cluster.replicas) {
      assert.equal((await fetch(new URL('/readyz', r.handle.adminUrl))).status, 200, `${r.id} is ready, leader or not`);
      // Until a Tokyo proxy is observed ready, the answer is the default region's.
      const nearest = await waitFor(`${r.id} to route Tokyo to Tokyo`, async () => {
        const res = await fetch(new URL('/nearest?region=tokyo', r.handle.loginUrl));
        const proxy = res.status === 200 ? ((await res.json()) as { proxy?: string }).proxy : undefined;
        return proxy?.startsWith('tokyo-') ? proxy : undefined;
      });
      assert.match(nearest, /^tokyo-\d$/, `${r.id} answers the login URL`);
    }
  });

  it('the leader is cut off mid-rollout: the other takes over and the rollout completes, no proxy upgraded twice, none left out of rotation', async () => {
    await waitFor('the rollout under way', async () => {
      const s = rolloutStatus();
      return (s.proxies ?? []).filter((p) => p.step === 'Done').length >= 2 && s.phase !== 'Completed' ? true : undefined;
    }, 60_000);
    const first = cluster.holder();
    assert.ok(first);
    cluster.cutOff(first);
    const next = await cluster.leader(first);
    const cut = cluster.replicas.find((r) => r.id === first);
    assert.ok(cut);
    assert.equal(await cluster.leading(cut), 0, 'the cut-off replica no longer acts');

    const done = await waitFor('the rollout to finish', async () => finished(rolloutStatus()), 60_000, 100);
    assert.equal(done.phase, 'Completed', done.message);
    assert.equal(cluster.holder(), next.id);
    assert.ok(cluster.leaseTransitions() >= 1);
    const proxies = await kube.control<{ name: string; version: string; inRotation: boolean }[]>('/proxies');
    assert.equal(proxies.length, 14);
    for (const p of proxies) assert.deepEqual([p.name, p.version, p.inRotation], [p.name, TARGET, true]);
    const restarts = kube.restarts();
    assert.deepEqual([...restarts.entries()].filter(([, n]) => n !== 1), [], 'every proxy restarted exactly once');
    assert.equal(restarts.size, 14);
    assert.deepEqual(cluster.stuck, [], 'every term stopped in time');
  });

  it('a stale status write was refused and done again from fresh state', () => {
    assert.ok(injected && conflicts >= 1, `another writer got in (${String(injected)}) and the controller's write was refused (${conflicts})`);
    const s = rolloutStatus();
    assert.notEqual(s.message, INJECTED, 'the controller wrote over the other write, having read it');
    assert.equal(s.phase, 'Completed');
  });

  it('ends as the same rollout does in standalone mode: status and the fleet', async () => {
    const theirs = await waitFor('the standalone rollout to finish', async () => finished(await standalone.status<ProxyRolloutStatus>('ProxyRollout', ROLLOUT)), 60_000, 100);
    assertSameEndState(rolloutStatus(), theirs, 'ProxyRollout follow-the-sun', RUN_MEASURED);
    assert.deepEqual(kube.restarts(), alone.restarts(), 'the same proxies restarted as often');
  });
});
