import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Condition } from '../../src/model/conditions.js';
import type { ProxyRolloutStatus } from '../../src/model/rollout.js';
import { asMergePatch, clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';
import { startDemoWorld, type DemoWorld } from './demo-world.js';
import { assertSameEndState, RUN_MEASURED } from './end-state.js';
import type { ReceivedNotice } from './notice-receiver.js';
import { startCluster, type Cluster, type Replica } from './replicas.js';
import { startStandalone, type Standalone } from './standalone.js';

const ROLLOUT = 'follow-the-sun';
const TARGET = '17.4.8';
const INJECTED = 'written by another writer between the controller’s read and its write';
/** A ProxyRollout the API server's schema accepts and Meridian's cross-field checks refuse (src/model/rollout-rules.ts). */
const MISFIT = 'misfit';
const MISFIT_SPEC = { fleet: 'demo', version: TARGET, paused: true, waves: [{ name: 'first', regions: ['tokyo'] }, { name: 'again', regions: ['tokyo'] }] };

const finished = (s: ProxyRolloutStatus): ProxyRolloutStatus | undefined => (s.phase === 'Completed' || s.phase === 'Failed' ? s : undefined);
const doneCount = (s: ProxyRolloutStatus): number => (s.proxies ?? []).filter((p) => p.step === 'Done').length;
/** The notices a receiver got, each once (a resend after a hand-over carries the same id: receivers drop it). */
const distinct = (ns: readonly ReceivedNotice[]): string[] => [...new Set(ns.map((n) => `${n.region} ${n.id}`))].sort();

/**
 * Kubernetes mode end to end: the demo fleet's ProxyFleet and its follow-the-sun ProxyRollout
 * (made to run now, its notices posted to a receiver) in the test cluster, the bundled simulator
 * playing the proxies, and two controller replicas electing a leader on a Lease; mid-rollout the
 * leader is cut off (a partition), the cut-off pod is replaced, and the next leader is killed.
 * Alongside, the same manifests in standalone mode on a simulator of their own, for the end state
 * to compare with.
 */
describe('two replicas on the API server', { timeout: 120_000 }, () => {
  let kube: DemoWorld;
  let alone: DemoWorld;
  let cluster: Cluster;
  let standalone: Standalone;
  /** Rollout status writes the API server refused as stale (409). */
  let conflicts = 0;
  let injected = false;
  /** The leaders in turn: elected, after the cut-off, after the kill. */
  const leaders: Replica[] = [];

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

  const rolloutStatus = (): Promise<ProxyRolloutStatus> => cluster.status<ProxyRolloutStatus>('ProxyRollout', ROLLOUT);
  /** Waits for `more` proxies Done beyond `from` with the rollout still under way; fails at once if it finished first. */
  const underWay = async (from: number, more: number, what: string): Promise<number> => {
    const s = await waitFor(what, async () => {
      const x = await rolloutStatus();
      return doneCount(x) >= from + more || finished(x) ? x : undefined;
    }, 60_000, 50);
    assert.equal(finished(s), undefined, `${what}: the rollout finished first (${doneCount(s)} proxies done)`);
    return doneCount(s);
  };

  it('elects one leader; both replicas answer the login URL and are ready', async () => {
    const leader = await cluster.leader();
    leaders.push(leader);
    assert.deepEqual((await Promise.all(cluster.replicas.map(cluster.leading))).sort(), [0, 1]);
    assert.equal(await cluster.holder(), leader.id);
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

  it('a ProxyRollout the API server accepts but Meridian refuses: the leader writes SpecValid=False and one Warning Event InvalidSpec, the follower nothing', async () => {
    const [leader] = leaders;
    assert.ok(leader);
    const follower = cluster.replicas.find((r) => r.id !== leader.id);
    assert.ok(follower);
    const { custom } = clientsFor(cluster.server);
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyrollouts', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyRollout', metadata: { name: MISFIT }, spec: MISFIT_SPEC } });
    const cond = await waitFor('SpecValid on the refused rollout', async () => (await cluster.status<ProxyRolloutStatus>('ProxyRollout', MISFIT)).conditions?.find((c: Condition) => c.type === 'SpecValid'));
    assert.deepEqual([cond.status, cond.reason, cond.observedGeneration], ['False', 'InvalidSpec', 1]);
    assert.match(cond.message, /^spec\.waves\[1\]\.regions\[0\]: region "tokyo" is already in spec\.waves\[0\]/);
    const warnings = await waitFor('the Warning Event', async () => {
      const es = (await cluster.server.list('events', NS)).filter((e) => (e['involvedObject'] as { name?: string }).name === MISFIT);
      return es.length > 0 ? es : undefined;
    });
    assert.deepEqual(warnings.map((e) => [e['type'], e['reason'], e['message'], e['count']]), [['Warning', 'InvalidSpec', cond.message, 1]]);
    assert.ok(cluster.writes(leader.id).some((w) => w.method === 'PUT' && w.path.includes(`/proxyrollouts/${MISFIT}/status`)), 'the leader wrote the condition');
    assert.ok(cluster.writes(leader.id).some((w) => w.method === 'POST' && w.path.includes('/events')), 'the leader made the Event');
    assert.deepEqual(cluster.writes(follower.id).filter((w) => !w.path.includes('/leases')), [], 'the follower writes nothing');
    assert.equal((await rolloutStatus()).phase === 'Failed', false, 'the refused rollout does not touch the one under way');
  });

  it('the leader is cut off mid-rollout: the other takes over and goes on with it', async () => {
    const [first] = leaders;
    assert.ok(first);
    const done = await underWay(0, 2, 'the rollout under way');
    assert.equal(await cluster.holder(), first.id, 'the first leader leads until it is cut off');
    cluster.cutOff(first.id);
    const next = await cluster.leader(first.id);
    leaders.push(next);
    assert.equal(await cluster.leading(first), 0, 'the cut-off replica no longer acts');
    await underWay(done, 1, 'the next leader goes on');
  });

  it('the cut-off pod is replaced, the next leader killed mid-rollout: the new pod takes over and the rollout completes, no proxy upgraded twice, none left out of rotation, no notice lost', async () => {
    const [first, next] = leaders;
    assert.ok(first && next);
    await cluster.kill(first.id);
    await cluster.start('meridian-c');
    await underWay(await underWay(0, 0, 'the rollout'), 1, 'one more proxy done by the next leader');
    await cluster.kill(next.id);
    const last = await cluster.leader(next.id);
    assert.equal(last.id, 'meridian-c');

    const done = await waitFor('the rollout to finish', async () => finished(await rolloutStatus()), 60_000, 100);
    assert.equal(done.phase, 'Completed', done.message);
    assert.equal(await cluster.holder(), last.id);
    assert.ok((await cluster.leaseTransitions()) >= 2);
    const proxies = await kube.control<{ name: string; version: string; inRotation: boolean }[]>('/proxies');
    assert.equal(proxies.length, 14);
    for (const p of proxies) assert.deepEqual([p.name, p.version, p.inRotation], [p.name, TARGET, true]);
    const restarts = kube.restarts();
    assert.deepEqual([...restarts.entries()].filter(([, n]) => n !== 1), [], 'every proxy restarted exactly once');
    assert.equal(restarts.size, 14);
    // Every notice in status was delivered, and nothing was delivered that status does not hold.
    const given = (done.notices ?? []).map((n) => `${n.region} ${n.id}`).sort();
    assert.ok(given.length > 0, 'the rollout gave notices');
    assert.ok((done.notices ?? []).every((n) => n.givenAt && n.channels.every((c) => c.result === 'sent')), 'every notice sent on its channel');
    assert.deepEqual(distinct(kube.notices), given, 'the receiver got every notice');
    assert.deepEqual(cluster.stuck, [], 'every term stopped in time');
  });

  it('a stale status write was refused and done again from fresh state', async () => {
    assert.ok(injected && conflicts >= 1, `another writer got in (${String(injected)}) and the controller's write was refused (${conflicts})`);
    const s = await rolloutStatus();
    assert.notEqual(s.message, INJECTED, 'the controller wrote over the other write, having read it');
    assert.equal(s.phase, 'Completed');
  });

  it('ends as the same rollout does in standalone mode: status, the fleet and the notices', async () => {
    const theirs = await waitFor('the standalone rollout to finish', async () => finished(await standalone.status<ProxyRolloutStatus>('ProxyRollout', ROLLOUT)), 60_000, 100);
    assertSameEndState(await rolloutStatus(), theirs, 'ProxyRollout follow-the-sun', RUN_MEASURED);
    assert.deepEqual(kube.restarts(), alone.restarts(), 'the same proxies restarted as often');
    assert.deepEqual(distinct(kube.notices).map((n) => n.split(' ')[0]), distinct(alone.notices).map((n) => n.split(' ')[0]), 'notices for the same regions');
  });
});
