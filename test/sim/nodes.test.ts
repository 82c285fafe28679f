import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TctlNode, TctlProxy } from '../../src/sim/index.js';
import { accepted, clusterNetworking } from './peering-helpers.js';
import { act, control, metric, scrape, startSim } from './sim-helpers.js';

const PROXIES = [
  { name: 'fra-1', region: 'eu-central', version: '17.4.2' },
  { name: 'fra-2', region: 'eu-central', version: '17.4.2' },
  { name: 'fra-3', region: 'eu-central', version: '17.4.2' },
  { name: 'nyc-1', region: 'us-east', version: '17.4.1' },
  { name: 'nyc-2', region: 'us-east', version: '17.4.1' },
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function nodes(sim: Parameters<typeof scrape>[0]): Promise<TctlNode[]> {
  const r = await control(sim, 'GET', '/inventory/nodes');
  assert.equal(r.status, 200);
  return r.json as TctlNode[];
}

const idsOf = (n: TctlNode): readonly string[] => n.spec.proxy_ids ?? [];

/** Agents report their proxies (`proxy_ids`) only under proxy_peering. */
async function peeringOn(sim: Parameters<typeof scrape>[0]): Promise<void> {
  await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
}

test('proxy_ids appear only under proxy_peering; proxy_missing_ssh_tunnels counts as Teleport does', async (t) => {
  const sim = await startSim(t, { proxies: PROXIES, nodes: 60, agentConnectionCount: 2 });
  const mesh = await nodes(sim);
  assert.ok(mesh.every((n) => n.spec.proxy_ids === undefined && n.spec.use_tunnel), 'agent_mesh: no proxy_ids (omitempty)');
  // Under agent_mesh every tunnelled node is expected on every proxy.
  for (const p of sim.proxies) {
    const page = await scrape(sim, p.name);
    assert.equal(metric(page, 'proxy_missing_ssh_tunnels'), 60 - metric(page, 'teleport_reverse_tunnels_connected', { type: 'node' }), p.name);
  }
  await peeringOn(sim);
  const peered = await nodes(sim);
  assert.ok(peered.every((n) => idsOf(n).length === 2));
  // A proxy with no peer client (started under agent_mesh) still expects every node; once restarted
  // under proxy_peering it expects only the nodes whose proxy_ids name it, and they all hold it.
  const before = await scrape(sim, 'fra-1');
  assert.equal(metric(before, 'proxy_missing_ssh_tunnels'), 60 - metric(before, 'teleport_reverse_tunnels_connected', { type: 'node' }));
  await act(sim, 'fra-1', 'restart', {});
  sim.advance(25_000);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'proxy_missing_ssh_tunnels'), 0);
});

test('nodes inventory has the shape of tctl get nodes, with tunnels mostly in the own region', async (t) => {
  const sim = await startSim(t, { proxies: PROXIES, nodes: 60, agentConnectionCount: 2 });
  await peeringOn(sim);
  const list = await nodes(sim);
  assert.equal(list.length, 60);
  const hostIds = new Map(sim.proxies.map((p) => [p.hostId, p]));
  let local = 0;
  let remote = 0;
  for (const n of list) {
    assert.deepEqual(Object.keys(n).sort(), ['kind', 'metadata', 'spec', 'sub_kind', 'version']);
    assert.equal(n.kind, 'node');
    assert.equal(n.sub_kind, 'teleport');
    assert.equal(n.version, 'v2');
    assert.match(n.metadata.name, UUID);
    assert.ok(['eu-central', 'us-east'].includes(n.metadata.labels['region'] ?? ''));
    assert.ok(Date.parse(n.metadata.expires) > sim.clock.now());
    assert.equal(n.spec.addr, '');
    assert.equal(n.spec.use_tunnel, true);
    assert.match(n.spec.hostname, /^node-(eu-central|us-east)-\d{3}$/);
    assert.equal(n.spec.version, n.metadata.labels['region'] === 'us-east' ? '17.4.1' : '17.4.2');
    assert.equal(idsOf(n).length, 2);
    assert.equal(new Set(idsOf(n)).size, 2, 'tunnels go to distinct proxies');
    for (const id of idsOf(n)) {
      const p = hostIds.get(id);
      assert.ok(p, `proxy id ${id} is a fleet proxy`);
      if (p.region === n.metadata.labels['region']) local++;
      else remote++;
    }
  }
  assert.equal(new Set(list.map((n) => n.metadata.name)).size, 60);
  assert.ok(remote > 0 && remote < local / 3, `some discovery lands remote: ${local} local, ${remote} remote`);

  // Each proxy's metrics agree with the inventory.
  for (const p of sim.proxies) {
    const page = await scrape(sim, p.name);
    const holding = list.filter((n) => idsOf(n).includes(p.hostId));
    assert.equal(metric(page, 'teleport_reverse_tunnels_connected', { type: 'node' }), holding.length, p.name);
    // No peer client (started before the switch): every node without a tunnel here counts.
    const missing = list.filter((n) => !idsOf(n).includes(p.hostId)).length;
    assert.equal(metric(page, 'proxy_missing_ssh_tunnels'), missing, `${p.name} missing tunnels`);
  }
});

test('tunnels leave a stopped proxy at once and reconnect elsewhere after a short delay', async (t) => {
  const sim = await startSim(t, { proxies: PROXIES, nodes: 60, agentConnectionCount: 2 });
  await peeringOn(sim);
  const fra1 = sim.proxies.find((p) => p.name === 'fra-1');
  assert.ok(fra1);
  const held = (await nodes(sim)).filter((n) => idsOf(n).includes(fra1.hostId));
  assert.ok(held.length > 5, `fra-1 holds ${held.length} node tunnels`);

  await act(sim, 'fra-1', 'shutdown', { mode: 'immediate' });
  const right = await nodes(sim);
  assert.ok(right.every((n) => !idsOf(n).includes(fra1.hostId)), 'no node lists the stopped proxy');
  for (const h of held) assert.equal(right.find((n) => n.metadata.name === h.metadata.name)?.spec.proxy_ids?.length, 1);

  sim.advance(31_000);
  const later = await nodes(sim);
  assert.ok(later.every((n) => idsOf(n).length === 2 && !idsOf(n).includes(fra1.hostId)));
  const moved = later.filter((n) => held.some((h) => h.metadata.name === n.metadata.name));
  const euIds = new Set(sim.proxies.filter((p) => p.region === 'eu-central').map((p) => p.hostId));
  const stayedInRegion = moved.filter((n) => n.metadata.labels['region'] === 'eu-central' && idsOf(n).every((id) => euIds.has(id))).length;
  assert.ok(stayedInRegion > 0, 'moved tunnels prefer the own region');
  let total = 0;
  for (const p of sim.proxies.filter((x) => x.name !== 'fra-1')) {
    total += metric(await scrape(sim, p.name), 'teleport_reverse_tunnels_connected', { type: 'node' });
  }
  assert.equal(total, 120, 'every tunnel is held by a live proxy again');

  // No rebalancing when it comes back: the restarted proxy starts with no node tunnels.
  await act(sim, 'fra-1', 'restart', {});
  sim.advance(25_000);
  const page = await scrape(sim, 'fra-1');
  assert.equal(metric(page, 'process_state'), 0);
  assert.ok(metric(page, 'teleport_reverse_tunnels_connected', { type: 'node' }) < held.length);
  // Restarted under proxy_peering it has a peer client: only nodes whose proxy_ids name it count, and none does yet.
  assert.equal(metric(page, 'proxy_missing_ssh_tunnels'), 0);
});

test('proxies inventory has the shape of tctl get proxies; a stopped proxy leaves its record until it expires', async (t) => {
  const sim = await startSim(t, { proxies: PROXIES });
  const get = async (): Promise<TctlProxy[]> => (await control(sim, 'GET', '/inventory/proxies')).json as TctlProxy[];
  const list = await get();
  assert.equal(list.length, 5);
  const fra1 = list.find((p) => p.spec.hostname === 'fra-1');
  assert.deepEqual(fra1, {
    kind: 'proxy',
    version: 'v2',
    metadata: { name: sim.proxies[0]?.hostId, expires: new Date(sim.clock.now() + 600_000).toISOString() },
    spec: { hostname: 'fra-1', public_addrs: ['fra-1.example.com:443'], version: '17.4.2' },
  });
  await act(sim, 'fra-1', 'shutdown', { mode: 'immediate' });
  sim.advance(9 * 60_000);
  assert.equal((await get()).length, 5, 'stale record within the heartbeat TTL');
  sim.advance(60_000);
  assert.deepEqual((await get()).map((p) => p.spec.hostname).sort(), ['fra-2', 'fra-3', 'nyc-1', 'nyc-2']);
});

test('tunnels blip now and then over a long run, and nodes keep their tunnel count', async (t) => {
  const sim = await startSim(t, { proxies: PROXIES, nodes: 40 });
  await peeringOn(sim);
  const first = await nodes(sim);
  for (let i = 0; i < 48; i++) sim.advance(30 * 60_000);
  const later = await nodes(sim);
  const changed = later.filter((n) => idsOf(n)[0] !== first.find((f) => f.metadata.name === n.metadata.name)?.spec.proxy_ids?.[0]).length;
  assert.ok(changed > 0, 'some tunnels moved after blips');
  assert.ok(later.every((n) => idsOf(n).length === 1));
});
