import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxyCanaryStatus } from '../../src/model/canary.js';
import { NS } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';
import { startDemoWorld, type DemoWorld } from './demo-world.js';
import { assertSameEndState, RUN_MEASURED } from './end-state.js';
import { startCluster, type Cluster } from './replicas.js';
import { startStandalone, type Standalone } from './standalone.js';

const CANARY = 'debug-build';
const BUILD = '17.4.9-debug.1';
const SUBSET = ['london-1', 'tokyo-1'];
const PROMOTED = `${CANARY}-promote`;
/** What the simulator's traffic decides: the deploy's session counts (and a proxy taken out again when sessions rose on it), what each interval measured, the interval under way. */
const MEASURED = [...RUN_MEASURED.map((p) => `deploy.${p}`), 'deploy.proxies.*.takeOuts', ...['value', 'baseline', 'limit', 'sample', 'reason'].map((f) => `intervals.*.outcomes.*.${f}`), 'analysis'];

/** What `meridian canary promote` asks of a controller's admin API. */
async function promote(adminUrl: string, namespace: string): Promise<void> {
  const res = await fetch(new URL(`/api/v1/canaries/${namespace}/${CANARY}/promote`, adminUrl), { method: 'POST' });
  assert.equal(res.status, 200, await res.text());
}

const ended = (s: ProxyCanaryStatus): ProxyCanaryStatus | undefined => (s.phase === 'Promoted' || s.phase === 'RolledBack' || s.phase === 'Held' ? s : undefined);
const scrapesOf = (s: ProxyCanaryStatus): Map<string, number> => new Map((s.analysis?.windows ?? []).filter((w) => SUBSET.includes(w.proxy)).map((w) => [w.proxy, w.scrapes]));

/**
 * The demo's canary (examples/canaries/debug-build.yaml, started, baking an hour) as a ProxyCanary
 * in the API server, two replicas, the leader killed mid-analysis. Its proxies get no traffic but
 * invitees', so no interval is conclusive and it is held for the operator, who promotes it; the
 * held-back ProxyRollout's create is made but its answer lost on the way back. Alongside, the same
 * manifests in standalone mode.
 */
describe('a canary on two replicas, the leader killed mid-analysis', { timeout: 120_000 }, () => {
  let kube: DemoWorld;
  let alone: DemoWorld;
  let cluster: Cluster;
  let standalone: Standalone;
  /** ProxyRollout creates the API server answered, by status code. */
  const creates = new Map<number, number>();
  let lost = false;
  let atKill: ProxyCanaryStatus = {};

  before(async () => {
    kube = await startDemoWorld();
    alone = await startDemoWorld();
    cluster = await startCluster(kube, [kube.manifests.fleet, kube.manifests.canary], {
      onRequest: (info, status) => {
        if (info.verb === 'create' && info.resource === 'proxyrollouts') creates.set(status, (creates.get(status) ?? 0) + 1);
      },
      // The first create is made, but its answer never reaches the replica.
      loseAnswer: (req) => !lost && req.method === 'POST' && (req.url ?? '').includes('/proxyrollouts') && (lost = true),
    });
    standalone = await startStandalone(alone, [alone.manifests.fleet, alone.manifests.canary]);
  });

  after(async () => {
    await standalone?.handle.close().catch(() => undefined);
    await cluster?.close();
    await Promise.all([kube?.close(), alone?.close()]);
  });

  const canary = (): Promise<ProxyCanaryStatus> => cluster.status<ProxyCanaryStatus>('ProxyCanary', CANARY);
  const version = async () => (await cluster.server.get('proxycanaries', NS, CANARY))?.metadata?.resourceVersion;

  it('the next leader goes on with the analysis from status: the same bake, the interval under way and its windows', async () => {
    atKill = await waitFor('the analysis under way, its windows in status', async () => {
      const s = await canary();
      const scrapes = scrapesOf(s);
      // A few scrapes into the second interval: a window begun again would show fewer at the next leader's first write.
      return s.phase === 'Baking' && (s.intervals ?? []).length >= 1 && SUBSET.every((p) => (scrapes.get(p) ?? 0) >= 4) ? s : undefined;
    }, 60_000, 20);
    const first = await cluster.leader();
    await cluster.kill(first.id);
    // From here on only the next leader writes: every write of the interval must count on from the window at the kill.
    const rv = await version();
    const next = await cluster.leader(first.id);
    assert.notEqual(next.id, first.id);

    const resumed = await waitFor('the next leader’s first write', async () => {
      const o = await cluster.server.get('proxycanaries', NS, CANARY);
      return o?.metadata?.resourceVersion !== rv ? ((o?.['status'] ?? {}) as ProxyCanaryStatus) : undefined;
    }, 30_000, 10);
    assert.equal(resumed.bakeStartedAt, atKill.bakeStartedAt, 'the bake goes on, not begun again');
    assert.deepEqual(resumed.intervals?.slice(0, atKill.intervals?.length), atKill.intervals, 'the judged intervals are kept');
    if (resumed.intervalStartedAt === atKill.intervalStartedAt) {
      const [before, now] = [scrapesOf(atKill), scrapesOf(resumed)];
      for (const p of SUBSET) assert.ok((now.get(p) ?? 0) >= (before.get(p) ?? 0), `${p}: the window goes on from ${before.get(p)} scrapes (now ${now.get(p)})`);
    } else {
      // The interval ended before the first write: it is judged from the window as persisted and what followed.
      assert.equal(resumed.intervals?.[atKill.intervals?.length ?? 0]?.from, atKill.intervalStartedAt);
    }
  });

  it('is held for the operator as in standalone mode (optInOnly: no traffic but invitees), then promoted by hand: the held-back ProxyRollout made once, each canary proxy restarted once', async () => {
    const held = await waitFor('the canary to end its bake', async () => ended(await canary()), 60_000, 100);
    assert.equal(held.phase, 'Held', held.message);
    assert.equal(held.decision?.kind, 'hold');
    // Intervals follow each other without a gap across the hand-over; the one under way at the kill among them.
    const intervals = held.intervals ?? [];
    for (let i = 1; i < intervals.length; i++) assert.equal(intervals[i]?.from, intervals[i - 1]?.to, `interval ${i} starts where ${i - 1} ended`);
    assert.ok(intervals.some((v) => v.from === atKill.intervalStartedAt), 'the interval under way at the kill was judged');

    // `meridian canary promote debug-build` (the admin API it calls), on the replica left.
    const holder = await cluster.holder();
    const [left] = cluster.replicas.filter((r) => r.id === holder);
    assert.ok(left);
    await promote(left.handle.adminUrl, NS);
    const done = await waitFor('the canary to be promoted', async () => {
      const s = await canary();
      return s.phase === 'Promoted' ? s : undefined;
    }, 30_000, 50);
    assert.equal(done.promotedRollout, `${NS}/${PROMOTED}`);

    assert.ok(lost, 'the first create’s answer was lost');
    assert.deepEqual([...creates.entries()].filter(([code]) => code !== 409), [[201, 1]], `one create made the ProxyRollout, any other was AlreadyExists: ${JSON.stringify([...creates])}`);
    const rollouts = await cluster.server.list('proxyrollouts', NS);
    assert.deepEqual(rollouts.map((r) => r.metadata?.name), [PROMOTED]);
    const spec = rollouts[0]?.['spec'] as { version?: string; paused?: boolean };
    assert.deepEqual([spec.version, spec.paused], [BUILD, true], 'held back: paused until an operator starts it');

    assert.deepEqual(Object.fromEntries(kube.restarts()), Object.fromEntries(SUBSET.map((p) => [p, 1])), 'each canary proxy restarted once, no other');
    const proxies = await kube.control<{ name: string; version: string; inRotation: boolean }[]>('/proxies');
    for (const p of proxies) assert.deepEqual([p.name, p.version, p.inRotation], [p.name, SUBSET.includes(p.name) ? BUILD : '17.4.2', true]);
    assert.deepEqual(cluster.stuck, [], 'every term stopped in time');
  });

  it('ends as the same canary does in standalone mode: status, the promoted ProxyRollout and the fleet', async () => {
    const held = await waitFor('the standalone canary to end its bake', async () => ended(await standalone.status<ProxyCanaryStatus>('ProxyCanary', CANARY)), 60_000, 100);
    assert.equal(held.phase, 'Held', held.message);
    await promote(standalone.handle.adminUrl, 'default');
    const theirs = await waitFor('the standalone canary to be promoted', async () => {
      const s = await standalone.status<ProxyCanaryStatus>('ProxyCanary', CANARY);
      return s.phase === 'Promoted' ? s : undefined;
    }, 30_000, 50);
    assertSameEndState(await canary(), theirs, `ProxyCanary ${CANARY}`, MEASURED);
    assertSameEndState((await cluster.server.get('proxyrollouts', NS, PROMOTED))?.['spec'], (await standalone.manifest('ProxyRollout', PROMOTED))?.spec, `ProxyRollout ${PROMOTED}`);
    assert.deepEqual(kube.restarts(), alone.restarts(), 'the same proxies restarted as often');
  });
});
