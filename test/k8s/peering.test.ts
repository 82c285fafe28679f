import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxyPeeringStatus } from '../../src/model/peering.js';
import { waitFor } from '../helpers/wait.js';
import { startDemoWorld, type DemoWorld, type SimEntry } from './demo-world.js';
import { assertSameEndState } from './end-state.js';
import { startCluster, type Cluster } from './replicas.js';
import { startStandalone, type Standalone } from './standalone.js';

const PEERING = 'demo';
/**
 * What the clock or the simulator decides, not the controller: the inventory's read, the peer dial
 * error counters, the allow-list's generation (from the time it is made), and which nodes hold
 * tunnels where: the simulator's agents reconnect as its time goes, differently from run to run
 * (more so on a busy machine), so the links a plan needs and the report's counts follow them. The
 * phase, the conditions and the outside changes' kinds are compared; that the links are the plan of
 * the run's own inventory is checked above (Covered, every link up, the simulator as the status says).
 */
const MEASURED = ['inventory', 'peerDialErrors', 'allowList.generation', 'links', 'report'];

/** Covered, every link up, nothing being applied, no new peer dial errors: where the demo's peering rests. */
const settled = (s: ProxyPeeringStatus): ProxyPeeringStatus | undefined =>
  s.phase === 'Covered' && !s.inFlight && s.allowList && (s.links ?? []).every((l) => l.state === 'Up') && s.conditions?.find((c) => c.type === 'PeerDialsClean')?.status === 'True' ? s : undefined;

/** The outside changes the simulator saw, one line each: cluster networking, a proxy's peer listener, an allow-list generation. */
function changes(seen: readonly SimEntry[]): string[] {
  return seen.flatMap((e) => {
    if (e.msg === 'Cluster networking set') return [`cluster networking ${e.tunnelStrategy?.type ?? ''}`];
    if (e.msg === 'Upgrade hook answered' && e.action === 'configure') return [`peer listener ${e.proxy ?? ''}`];
    if (e.msg === 'Peer allow-list applied') return [`allow-list generation ${e.generation ?? ''}`];
    return [];
  });
}
const repeated = (xs: readonly string[]): string[] => xs.filter((x, i) => xs.indexOf(x) !== i);
/** The changes with each allow-list generation as its rank: generations are times, the runs' differ. */
/**
 * The outside changes made, each once: an allow-list stands for every generation of it, as how many
 * are published follows the node agents' reconnects, which part ways between two simulators.
 */
const kinds = (xs: readonly string[]): string[] => [...new Set(xs.map((x) => (x.startsWith('allow-list') ? 'allow-list' : x)))].sort();

/**
 * The demo's ProxyPeering (examples/fleet/peering.yaml) as an object in the API server, two
 * replicas, the leader cut off as it would record the second peer listener set, then killed;
 * alongside, the same manifests in standalone mode.
 */
describe('peering on two replicas, the leader cut off and killed mid-way', { timeout: 120_000 }, () => {
  let kube: DemoWorld;
  let alone: DemoWorld;
  let cluster: Cluster;
  let standalone: Standalone;

  /** The first leader, cut off when it would record the second peer listener set, and how many changes had been made then. */
  let cut: { id: string; made: number } | undefined;
  /** The standalone run's first settled status (the simulator's agents move on after it). */
  let theirs: Promise<ProxyPeeringStatus>;

  before(async () => {
    kube = await startDemoWorld();
    alone = await startDemoWorld();
    cluster = await startCluster(kube, [kube.manifests.fleet, kube.manifests.peering], {
      // The status write that records the second peer listener set: its writer is cut off before it goes through.
      before: async (req) => {
        const made = changes(kube.seen);
        if (cut || req.method !== 'PUT' || !req.url?.includes(`/proxypeerings/${PEERING}/status`) || made.filter((c) => c.startsWith('peer listener')).length < 2) return;
        const id = /token-(\S+)/.exec(req.headers.authorization ?? '')?.[1];
        if (!id) return;
        cut = { id, made: made.length };
        cluster.cutOff(id);
      },
    });
    standalone = await startStandalone(alone, [alone.manifests.fleet, alone.manifests.peering]);
    theirs = waitFor('the standalone peering to settle', async () => settled(await standalone.status<ProxyPeeringStatus>('ProxyPeering', PEERING)), 90_000, 50);
    theirs.catch(() => undefined); // awaited by the test that compares; not a crash before it
  });

  after(async () => {
    await standalone?.handle.close().catch(() => undefined);
    await cluster?.close();
    await Promise.all([kube?.close(), alone?.close()]);
  });

  const peering = (): Promise<ProxyPeeringStatus> => cluster.status<ProxyPeeringStatus>('ProxyPeering', PEERING);
  /** The Kubernetes run's first settled status. */
  let done: ProxyPeeringStatus;

  it('the next leader finishes what the first began: Covered, every change made once, the simulator as the status says', async () => {
    const first = await waitFor('the second peer listener set', async () => cut, 60_000, 10);
    await cluster.kill(first.id);
    await cluster.leader(first.id);
    done = await waitFor('the peering to settle', async () => settled(await peering()), 60_000, 50);
    const made = changes(kube.seen);
    assert.ok(first.made < made.length, `the first leader made ${first.made} of the ${made.length} changes, the next the rest`);
    assert.deepEqual(repeated(made), [], 'no outside change made twice');
    assert.ok((done.links ?? []).length > 0, 'the demo fleet needs links');

    const sim = await kube.control<{ tunnelStrategy: { type: string }; allowList: { generation: number | null; rules?: unknown[] }; listeners: Record<string, string> }>('/peering');
    assert.equal(sim.tunnelStrategy.type, 'proxy_peering');
    assert.equal(sim.allowList.generation, done.allowList?.generation, 'the allow-list the firewall holds is the one in status');
    assert.deepEqual(Object.keys(sim.listeners).sort(), kube.fleet.spec.proxies.map((p) => p.name).sort(), 'every proxy has its peer listener');
    assert.deepEqual(cluster.stuck, [], 'every term stopped in time');
  });

  it('ends as the same peering does in standalone mode: status and the outside changes', async () => {
    assertSameEndState(done, await theirs, `ProxyPeering ${PEERING}`, MEASURED);
    assert.deepEqual(kinds(changes(kube.seen)), kinds(changes(alone.seen)), 'the same outside changes');
  });
});
