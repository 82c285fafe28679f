import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { AllowListDocument, PeeringActions } from '../../src/adapters/peering/peering-actions.js';
import type { InventorySource, ReadInventory } from '../../src/adapters/teleport/inventory-reader.js';
import type { ObjectEvent } from '../../src/model/object-events.js';
import type { ProxyPeering, ProxyPeeringSpec } from '../../src/model/peering.js';
import { API_VERSION } from '../../src/model/resource.js';
import { err, ok } from '../../src/model/result.js';
import { createPeeringReconciler, type ConfigureProxy } from '../../src/peering/peering-reconciler.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';
import { CrashingStore } from '../rollout/helpers/rollout-harness.js';
import { TWO_CITY_FLEET } from '../helpers/two-city-fleet.js';

const SPEC = TWO_CITY_FLEET;
const REGION_OF = new Map(SPEC.proxies.map((p) => [p.name, p.region]));
const hostId = (proxy: string): string => `host-${proxy}`;
const peerAddrOf = (proxy: string): string => `${SPEC.proxies.find((p) => p.name === proxy)?.diagnosticUrl.replace(/^http:\/\/|:\d+$/g, '')}:3021`;

/**
 * A small Teleport cluster and network the reconciler acts on only through its ports: the
 * inventories it reads, the resources and allow-list it applies, and the peer metrics the proxies
 * publish as a result (a dial crosses regions only when the allow-list has the pair).
 */
const DEFAULT_CNC = {
  kind: 'cluster_networking_config',
  version: 'v2',
  metadata: { name: 'cluster-networking-config', labels: { 'teleport.dev/origin': 'defaults' }, revision: 'r0' },
  spec: { keep_alive_interval: '5m0s', keep_alive_count_max: 3, client_idle_timeout: '15m0s', proxy_listener_mode: 1, tunnel_strategy: { type: 'agent_mesh' } },
};

class World {
  nodes = new Map<string, { region: string; proxies: string[] | undefined }>();
  /** The stored cluster_networking_config, as tctl get prints it. */
  cnc: Record<string, unknown> = structuredClone(DEFAULT_CNC);
  /** Proxies whose peer listener runs: configured while the cluster ran proxy_peering (a start reads the strategy). */
  listeners = new Set<string>();
  allowList: AllowListDocument | undefined;
  publishes = 0;
  nodesBody: string | undefined;
  failPublish: string | undefined;
  outOfRotation = new Set<string>();
  dialErrors = new Map<string, number>();

  get peering(): boolean {
    return (this.cnc['spec'] as { tunnel_strategy: { type: string } }).tunnel_strategy.type === 'proxy_peering';
  }

  /** The operator switches the cluster to proxy_peering themselves. */
  switchOn(): void {
    (this.cnc['spec'] as Record<string, unknown>)['tunnel_strategy'] = { type: 'proxy_peering', agent_connection_count: 2 };
  }

  /** Teleport and the firewall start over: agent_mesh, no listener, no allow-list. */
  reset(): void {
    this.cnc = structuredClone(DEFAULT_CNC);
    this.listeners.clear();
    this.allowList = undefined;
  }

  readonly read: ReadInventory = async (source: InventorySource) => {
    if (source.url?.endsWith('/cnc')) return ok({ from: source.url, body: JSON.stringify([this.cnc]) });
    if (source.url?.endsWith('/proxies')) {
      const proxies = SPEC.proxies.map((p) => ({ kind: 'proxy', metadata: { name: hostId(p.name) }, spec: { hostname: p.name, ...(this.listeners.has(p.name) ? { peer_addr: peerAddrOf(p.name) } : {}) } }));
      return ok({ from: source.url, body: JSON.stringify(proxies) });
    }
    if (source.command) return err(`${source.command[0]}: exited with code 1: "access denied"`);
    const body =
      this.nodesBody ??
      // Agents report proxy_ids only under proxy_peering.
      JSON.stringify([...this.nodes].map(([name, n]) => ({ kind: 'node', metadata: { name, labels: { region: n.region } }, spec: { hostname: name, ...(n.proxies && this.peering ? { proxy_ids: n.proxies.map(hostId) } : {}) } })));
    return ok({ from: source.url ?? '', body });
  };

  readonly actions: PeeringActions = {
    applyClusterNetworking: async (_a, _id, write) => {
      // As tctl create does (checkCreateResourceWithOrigin): -f over a non-default one, --confirm over teleport.yaml's.
      const origin = (this.cnc['metadata'] as { labels: Record<string, string> }).labels['teleport.dev/origin'];
      if (origin !== 'defaults' && !write.force) return err('non-default cluster networking configuration already exists');
      if (origin === 'config-file' && !write.confirm) return err('managed by static configuration: re-run with --confirm');
      const written = structuredClone(write.resource) as { metadata: { labels: Record<string, string> } };
      written.metadata.labels['teleport.dev/origin'] = 'dynamic';
      this.cnc = written;
      return ok(undefined);
    },
    readAllowListGeneration: async () => ok(this.allowList?.generation ?? null),
    publishAllowList: async (_t, doc) => {
      if (this.failPublish) return err(this.failPublish);
      // As the firewall automation should: a lower generation is stale; the same one is a retry, fine only with the same rules.
      const same = this.allowList && doc.generation === this.allowList.generation && JSON.stringify(doc.rules) === JSON.stringify(this.allowList.rules);
      if (this.allowList && doc.generation <= this.allowList.generation && !same) return err(`stale generation ${doc.generation}`);
      this.allowList = doc;
      this.publishes++;
      return ok(undefined);
    },
  };

  refuseConfigure = new Set<string>();

  readonly configure: ConfigureProxy = async (req) => {
    if (this.refuseConfigure.has(req.proxy.name)) return err(`configure hook of proxy "${req.proxy.name}": webhook at hooks.example: HTTP 409`);
    // The automation restarts the proxy: its listener opens only under proxy_peering.
    if (this.peering) this.listeners.add(req.proxy.name);
    else this.listeners.delete(req.proxy.name);
    return ok(undefined);
  };

  allowed(from: string, to: string): boolean {
    return REGION_OF.get(from) === REGION_OF.get(to) || (this.allowList?.rules.some((r) => r.from === from && r.to === to) ?? false);
  }

  private observations = 0;

  snapshot() {
    const observedAt = new Date(Date.UTC(2026, 0, 1) + ++this.observations * 1_000).toISOString();
    return { ...this.snapshotAt(), observedAt };
  }

  private snapshotAt() {
    return snapshot(
      SPEC.proxies.map((p) => {
        const peerConnections = this.peering
          ? Object.fromEntries(SPEC.proxies.filter((q) => q.name !== p.name).map((q) => [hostId(q.name), [this.listeners.has(q.name) && this.allowed(p.name, q.name) ? 'READY' : 'TRANSIENT_FAILURE']]))
          : undefined;
        const peerDialErrors = this.dialErrors.get(p.name);
        return observation(p.name, p.region, { metrics: metrics({ ...(peerConnections ? { peerConnections } : {}), ...(peerDialErrors === undefined ? {} : { peerDialErrors }) }) });
      }),
    );
  }

  /** Can a user on `from` reach `node`? */
  reaches(from: string, node: string): boolean {
    const holders = this.nodes.get(node)?.proxies ?? [];
    return holders.includes(from) || (this.peering && holders.some((h) => this.listeners.has(h) && this.allowed(from, h)));
  }
}

function peering(spec: Partial<ProxyPeeringSpec> = {}): ProxyPeering {
  return {
    apiVersion: API_VERSION,
    kind: 'ProxyPeering',
    metadata: { name: 'edge', namespace: 'default', generation: 1 },
    spec: {
      inventory: { nodes: { url: 'http://inv/nodes' }, proxies: { url: 'http://inv/proxies' }, interval: '1m' },
      holdTime: '10m',
      verifyTimeout: '2m',
      apply: { clusterNetworking: { url: 'http://automation/cnc', read: { url: 'http://inv/cnc' } }, allowList: { file: '/tmp/unused' } },
      ...spec,
    },
  };
}

function setup(spec: Partial<ProxyPeeringSpec> = {}) {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const world = new World();
  store.put(fleet(SPEC));
  store.put(peering(spec));
  /** meridian_peering_drift_total by kind. */
  const drifts = new Map<string, number>();
  /** The Kubernetes Events recorded on the peering. */
  const said: ObjectEvent[] = [];
  const controller = () =>
    createPeeringReconciler({
      store,
      clock,
      log: pino({ level: 'silent' }),
      snapshotOf: () => world.snapshot(),
      outOfRotation: () => world.outOfRotation,
      readInventory: world.read,
      actions: world.actions,
      configureProxy: world.configure,
      onDrift: (_p, what) => void drifts.set(what, (drifts.get(what) ?? 0) + 1),
      recordEvent: (k, e) => void (k.name === 'edge' && said.push(e)),
    });
  let reconciler = controller();
  const restartController = () => void (reconciler = controller());
  const key = { kind: 'ProxyPeering', namespace: 'default', name: 'edge' };
  const pass = async () => {
    await reconciler.reconcile(key, new AbortController().signal);
    return (await store.get('ProxyPeering', 'default', 'edge')) as ProxyPeering;
  };
  // Until nothing changes: the switch, one peer listener a pass, then the allow-list; what was
  // applied is read back 10 s later (the inventory with it), and the proxies' pages show the result.
  const settle = async () => {
    let p = await pass();
    let quiet = 0;
    for (let i = 0; i < 24 && quiet < 2; i++) {
      if (quiet) clock.advance(10_000);
      const next = await pass();
      quiet = JSON.stringify(next.status) === JSON.stringify(p.status) ? quiet + 1 : 0;
      p = next;
    }
    return p;
  };
  return { store, clock, world, pass, settle, key, drifts, restartController, said };
}

const linkStates = (p: ProxyPeering) => (p.status?.links ?? []).map((l) => `${l.from}->${l.to}:${l.state}`);

describe('ProxyPeering reconciler', () => {
  it('a New York node tunnelled only to Chicago: reported, linked, applied, verified, then removed after its tunnel returns and the hold passes', async () => {
    const { world, pass, settle, clock, said } = setup();
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    world.nodes.set('chi-app', { region: 'chicago', proxies: ['chi-1'] });
    assert.equal(world.reaches('nyc-1', 'ny-db'), false);

    let p = await pass();
    assert.equal(world.peering, true, 'the switch comes first: agents report their proxies, and a proxy opens its peer listener, only under proxy_peering');
    assert.deepEqual(linkStates(p), [], 'nothing known of the tunnels before');
    assert.deepEqual((world.cnc['spec'] as Record<string, unknown>)['client_idle_timeout'], '15m0s', 'the rest of the resource written back as read');
    p = await settle();
    assert.deepEqual(linkStates(p), ['new-york->chi-1:Up', 'new-york->chi-2:Up']);
    assert.equal(world.peering, true);
    assert.deepEqual([...world.listeners].sort(), ['chi-1', 'chi-2', 'nyc-1']);
    assert.deepEqual(world.allowList?.rules.map((r) => `${r.from}->${r.to}@${r.toAddress}`), ['nyc-1->chi-1@10.0.1.1:3021', 'nyc-1->chi-2@10.0.1.2:3021']);
    assert.ok(world.reaches('nyc-1', 'ny-db') && world.reaches('nyc-1', 'chi-app'));
    assert.equal(p.status?.phase, 'Covered');
    assert.deepEqual(p.status?.coverage?.map((c) => c.ratio), [1, 1]);
    // The Events say what was applied (links applied, listeners set, the switch), none a Warning.
    assert.deepEqual(said.filter((e) => e.reason === 'AllowListPublished').map((e) => [e.type, e.message.replace(/generation: \d+/, 'generation: G')]), [['Normal', 'Peer allow-list published (generation: G, rules: 2, links: 2)']]);
    assert.deepEqual(said.filter((e) => e.reason === 'PeerListenerSet').length, 3);
    assert.deepEqual(said.filter((e) => e.reason === 'ClusterNetworkingSet').length, 1);
    assert.equal(said.filter((e) => e.type === 'Warning').length, 0);

    // The node's tunnel comes home: Chicago now needs a link to it; the one New York used stays for the hold time.
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['nyc-1'] });
    clock.advance(60_000);
    p = await settle();
    const held = p.status?.links?.find((l) => l.to === 'chi-2');
    assert.ok(held?.unneededSince, 'the link is marked unneeded, not removed');
    assert.deepEqual(linkStates(p), ['chicago->nyc-1:Up', 'new-york->chi-1:Up', 'new-york->chi-2:Up']);
    assert.ok(world.reaches('chi-1', 'ny-db') && world.reaches('chi-2', 'ny-db'));
    clock.advance(8 * 60_000);
    p = await pass();
    assert.deepEqual(linkStates(p), ['chicago->nyc-1:Up', 'new-york->chi-1:Up', 'new-york->chi-2:Up'], 'not before the hold time');
    clock.advance(2 * 60_000);
    p = await pass();
    assert.deepEqual(linkStates(p), ['chicago->nyc-1:Up', 'new-york->chi-1:Up']);
    assert.deepEqual(world.allowList?.rules.map((r) => `${r.from}->${r.to}`), ['chi-1->nyc-1', 'chi-2->nyc-1', 'nyc-1->chi-1']);
    for (const from of ['nyc-1', 'chi-1', 'chi-2']) for (const node of ['ny-db', 'chi-app']) assert.ok(world.reaches(from, node), `${from} reaches ${node}`);
    assert.equal(p.status?.phase, 'Covered');
  });

  it('a link whose peer connection never comes up is reported Failed with the reason', async () => {
    const { world, pass, settle, clock } = setup();
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    // The firewall automation accepts the list but never opens it.
    world.allowed = (from, to) => REGION_OF.get(from) === REGION_OF.get(to);
    let p = await settle();
    assert.deepEqual(linkStates(p), ['new-york->chi-2:Pending']);
    clock.advance(60_000);
    p = await pass();
    assert.deepEqual(linkStates(p), ['new-york->chi-2:Pending'], 'not before the verify time');
    clock.advance(60_000);
    p = await pass();
    const l = p.status?.links?.[0];
    assert.equal(l?.state, 'Failed');
    assert.match(l?.reason ?? '', /nyc-1: state TRANSIENT_FAILURE/);
    assert.equal(p.status?.phase, 'Degraded');
  });

  it('bad inventory is reported and the last good plan stays: malformed JSON, unknown proxy ids', async () => {
    const { world, settle, pass, clock } = setup();
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    const good = await settle();
    for (const [body, why] of [
      ['{"kind": "node", ', /not JSON/],
      [JSON.stringify([{ metadata: { name: 'x' }, spec: { proxy_ids: ['host-nowhere'] } }]), /proxy id host-nowhere, which the proxies inventory does not list/],
      [JSON.stringify([{ spec: {} }]), /item 0 has no metadata.name/],
    ] as const) {
      world.nodesBody = body;
      clock.advance(60_000);
      const p = await pass();
      assert.match(p.status?.inventory?.error ?? '', why);
      assert.equal(p.status?.conditions?.find((c) => c.type === 'InventoryRead')?.status, 'False');
      assert.deepEqual(linkStates(p), linkStates(good));
      assert.equal(p.status?.inventory?.nodes, 1);
    }
    world.nodesBody = undefined;
    clock.advance(60_000);
    const p = await pass();
    assert.equal(p.status?.inventory?.error, undefined);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'InventoryRead')?.status, 'True');
  });

  it('a failing command source is reported with what the command said', async () => {
    const { pass } = setup({ inventory: { nodes: { command: ['tctl', 'get', 'nodes', '--format=json'] }, proxies: { url: 'http://inv/proxies' } } });
    const p = await pass();
    assert.equal(p.status?.phase, 'Pending');
    assert.match(p.status?.message ?? '', /nodes inventory: tctl: exited with code 1: "access denied"/);
  });

  it('a failed publish is retried on the next pass with nothing lost; the generation only moves on success', async () => {
    const { world, pass, settle, clock } = setup();
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    world.failPublish = 'firewall.example: HTTP 503';
    let p = await settle();
    assert.equal(p.status?.phase, 'Degraded');
    assert.match(p.status?.message ?? '', /HTTP 503/);
    assert.deepEqual(linkStates(p), ['new-york->chi-2:Pending']);
    assert.equal(p.status?.allowList, undefined);
    world.failPublish = undefined;
    clock.advance(30_000);
    p = await settle();
    assert.deepEqual(linkStates(p), ['new-york->chi-2:Up']);
    assert.equal(p.status?.allowList?.generation, world.allowList?.generation, 'the generation the firewall took is the one recorded');
    const before = world.publishes;
    clock.advance(30_000);
    await pass();
    assert.equal(world.publishes, before, 'an unchanged allow-list is not sent again');
  });

  it('peer dial errors that grow between passes are named in a condition', async () => {
    const { world, pass, settle, said } = setup();
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    for (const p of SPEC.proxies) world.dialErrors.set(p.name, 4);
    let p = await settle();
    assert.equal(p.status?.conditions?.find((c) => c.type === 'PeerDialsClean')?.status, 'True');
    world.dialErrors.set('nyc-1', 7);
    p = await pass();
    const c = p.status?.conditions?.find((x) => x.type === 'PeerDialsClean');
    assert.deepEqual([c?.status, c?.message], ['False', 'proxy_peer_client_dial_error_total grew on nyc-1 (+3) since the previous observation']);
    assert.deepEqual(said.filter((e) => e.type === 'Warning').map((e) => [e.reason, e.message]), [['DialErrorsGrew', c?.message]]);
    // A restart resets the counter: that is not growth.
    world.dialErrors.set('nyc-1', 0);
    p = await pass();
    assert.equal(p.status?.conditions?.find((x) => x.type === 'PeerDialsClean')?.status, 'True');
  });

  it('a proxy whose listener cannot be set holds back only the links to it; it is retried; with no link left the allow-list empties', async () => {
    const { world, settle, clock } = setup({ apply: { allowList: { file: '/tmp/unused' } } });
    world.switchOn(); // by the operator: no clusterNetworking in this spec
    world.refuseConfigure.add('chi-2');
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    world.nodes.set('chi-app', { region: 'chicago', proxies: ['chi-1'] });
    let p = await settle();
    assert.deepEqual(linkStates(p), ['new-york->chi-1:Up', 'new-york->chi-2:Pending']);
    assert.match(p.status?.links?.[1]?.reason ?? '', /not in a published allow-list yet/);
    assert.equal(p.status?.phase, 'Degraded');
    assert.match(p.status?.message ?? '', /peer listener of chi-2 not set \(links to it wait; retried\): configure hook of proxy "chi-2": webhook at hooks.example: HTTP 409/);
    assert.deepEqual(world.allowList?.rules.map((r) => `${r.from}->${r.to}`), ['nyc-1->chi-1']);

    world.refuseConfigure.clear();
    clock.advance(30_000);
    p = await settle();
    assert.deepEqual(linkStates(p), ['new-york->chi-1:Up', 'new-york->chi-2:Up']);
    assert.equal(p.status?.phase, 'Covered');

    // Every node gone: the links are held, then removed, and the firewall is told so.
    world.nodes.clear();
    clock.advance(60_000);
    await settle();
    clock.advance(10 * 60_000);
    p = await settle();
    assert.deepEqual(linkStates(p), []);
    assert.deepEqual(world.allowList?.rules, []);
    assert.equal(p.status?.allowList?.rules, 0);
  });

  it('never links to a proxy out of rotation', async () => {
    const { world, settle } = setup();
    world.outOfRotation.add('chi-2');
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-1', 'chi-2'] });
    const p = await settle();
    assert.deepEqual(linkStates(p), ['new-york->chi-1:Up']);
  });

  it('a dry run reports coverage and the plan and changes nothing', async () => {
    const { world, pass } = setup({ dryRun: true });
    world.switchOn();
    const cnc = JSON.stringify(world.cnc);
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    const p = await pass();
    assert.deepEqual(linkStates(p), ['new-york->chi-2:Planned']);
    assert.equal(JSON.stringify(world.cnc), cnc);
    assert.equal(world.allowList, undefined);
    assert.equal(world.listeners.size, 0);
    assert.deepEqual(p.status?.coverage?.find((c) => c.region === 'new-york'), { region: 'new-york', nodes: 1, reachable: 0, ratio: 0 });
  });

  it('two proxies that would share a peer_public_addr stop it before anything is applied', async () => {
    const store = new MemoryStore();
    const world = new World();
    const shared = { ...SPEC, proxies: SPEC.proxies.map((p) => ({ ...p, diagnosticUrl: 'http://127.0.0.1:3000' })) };
    store.put(fleet(shared));
    store.put(peering());
    const reconciler = createPeeringReconciler({ store, clock: new ManualClock(), log: pino({ level: 'silent' }), snapshotOf: () => world.snapshot(), outOfRotation: () => new Set(), readInventory: world.read, actions: world.actions, configureProxy: world.configure });
    await reconciler.reconcile({ kind: 'ProxyPeering', namespace: 'default', name: 'edge' }, new AbortController().signal);
    const p = (await store.get('ProxyPeering', 'default', 'edge')) as ProxyPeering;
    assert.equal(p.status?.phase, 'Invalid');
    assert.match(p.status?.message ?? '', /proxies nyc-1 and chi-1 would both get peer_public_addr 127\.0\.0\.1:3021: set spec\.proxies\[\]\.peerAddress/);
    assert.equal(world.peering, false);
  });

  it('an invalid spec is refused with the field named', async () => {
    const { pass } = setup({ inventory: { nodes: { url: 'http://a', command: ['x'] }, proxies: { url: 'http://b' } } });
    const p = await pass();
    assert.equal(p.status?.phase, 'Invalid');
    assert.match(p.status?.message ?? '', /spec\.inventory\.nodes: give exactly one of url or command/);
  });
});

describe('ProxyPeering reconciler: saved status is a record, never proof', () => {
  const condition = (p: ProxyPeering, type: string) => p.status?.conditions?.find((c) => c.type === type);
  const covered = async (s: ReturnType<typeof setup>) => {
    s.world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    s.world.nodes.set('chi-app', { region: 'chicago', proxies: ['chi-1'] });
    const p = await s.settle();
    assert.equal(p.status?.phase, 'Covered');
    return p;
  };

  for (const restart of [false, true]) {
    it(`the cluster reset behind its back (agent_mesh, no listener, no allow-list)${restart ? ', with the controller restarted on the same store,' : ''} is found, counted, re-applied, and Covered again`, async () => {
      const s = setup();
      const before = await covered(s);
      assert.equal(condition(before, 'InSync')?.status, 'True');
      s.world.reset();
      if (restart) s.restartController();
      s.clock.advance(60_000);
      const seen = await s.pass();
      assert.equal(condition(seen, 'InSync')?.status, 'False');
      assert.equal(condition(seen, 'InSync')?.reason, 'Drifted');
      assert.match(condition(seen, 'InSync')?.message ?? '', /tunnel_strategy agent_mesh, not proxy_peering with agent_connection_count 2/);
      assert.match(condition(seen, 'InSync')?.message ?? '', /holds no allow-list, not \d+/);
      const after = await s.settle();
      assert.equal(after.status?.phase, 'Covered');
      assert.equal(condition(after, 'InSync')?.status, 'True');
      assert.equal(s.world.peering, true);
      assert.deepEqual([...s.world.listeners].sort(), ['chi-1', 'chi-2', 'nyc-1']);
      assert.equal(s.world.allowList?.generation, after.status?.allowList?.generation);
      assert.ok(s.world.reaches('nyc-1', 'ny-db'));
      assert.equal(s.drifts.get('cluster_networking'), 1);
      assert.equal(s.drifts.get('allow_list'), 1);
      // Agents reported nothing under agent_mesh: the listeners are judged once the cluster is back on proxy_peering.
      assert.equal(s.drifts.get('peer_listener'), 3);
    });
  }

  it('a proxy restarted without its peer listener is configured again, and only it', async () => {
    const s = setup();
    await covered(s);
    const published = s.world.publishes;
    s.world.listeners.delete('chi-2');
    s.clock.advance(60_000);
    const p = await s.settle();
    assert.equal(p.status?.phase, 'Covered');
    assert.ok(s.world.listeners.has('chi-2'));
    assert.deepEqual([...s.drifts], [['peer_listener', 1]]);
    assert.equal(s.world.publishes, published, 'the firewall was left alone');
  });

  it('cluster networking is read, changed only in tunnel_strategy and written back whole, with -f and --confirm as tctl needs them', async () => {
    const s = setup();
    // Managed by teleport.yaml: tctl create refuses it without both flags (the fake World refuses as tctl does).
    const meta = s.world.cnc['metadata'] as { labels: Record<string, string> };
    meta.labels['teleport.dev/origin'] = 'config-file';
    meta.labels['team'] = 'edge';
    const spec = { ...(s.world.cnc['spec'] as Record<string, unknown>), routing_strategy: 1, idle_timeout: '30m0s' };
    s.world.cnc['spec'] = spec;
    await covered(s);
    assert.deepEqual(s.world.cnc['spec'], { ...spec, tunnel_strategy: { type: 'proxy_peering', agent_connection_count: 2 } });
    assert.equal((s.world.cnc['metadata'] as { labels: Record<string, string> }).labels['team'], 'edge');
  });
});

describe('ProxyPeering reconciler: a crash at any status write', () => {
  /** The story of the first test, pass by pass; `crashAt` crashes the store there (before or after the write) and a fresh controller carries on. */
  async function run(crashAt: number, crashAfterWrite: boolean) {
    const store = new CrashingStore();
    const clock = new ManualClock();
    const world = new World();
    store.put(fleet(SPEC));
    store.put(peering());
    const fresh = () =>
      createPeeringReconciler({ store, clock, log: pino({ level: 'silent' }), snapshotOf: () => world.snapshot(), outOfRotation: () => world.outOfRotation, readInventory: world.read, actions: world.actions, configureProxy: world.configure });
    let reconciler = fresh();
    store.crashAt = crashAt;
    store.crashAfterWrite = crashAfterWrite;
    let crashed = 0;
    const pass = async (advanceMs: number) => {
      clock.advance(advanceMs);
      try {
        await reconciler.reconcile({ kind: 'ProxyPeering', namespace: 'default', name: 'edge' }, new AbortController().signal);
      } catch (e) {
        if (!(e instanceof Error) || !/crash/.test(e.message)) throw e;
        crashed++;
        reconciler = fresh();
      }
    };
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['chi-2'] });
    world.nodes.set('chi-app', { region: 'chicago', proxies: ['chi-1'] });
    for (let i = 0; i < 4; i++) await pass(30_000);
    world.nodes.set('ny-db', { region: 'new-york', proxies: ['nyc-1'] });
    for (let i = 0; i < 16; i++) await pass(60_000);
    const p = (await store.get('ProxyPeering', 'default', 'edge')) as ProxyPeering;
    return { crashed, writes: store.writes, links: linkStates(p), phase: p.status?.phase, rules: world.allowList?.rules.map((r) => `${r.from}->${r.to}`), peering: world.peering, listeners: [...world.listeners].sort() };
  }

  it('resumes to the same links, allow-list and cluster state as a run without a crash', async () => {
    const reference = await run(Infinity, false);
    assert.equal(reference.phase, 'Covered');
    assert.ok(reference.writes >= 10, `${reference.writes} writes`);
    for (const after of [false, true]) {
      for (let k = 1; k <= reference.writes; k++) {
        const r = await run(k, after);
        assert.equal(r.crashed, 1, `crash ${after ? 'after' : 'before'} write ${k}`);
        assert.deepEqual({ ...r, crashed: 0, writes: 0 }, { ...reference, writes: 0 }, `crash ${after ? 'after' : 'before'} write ${k}`);
      }
    }
  });
});
