import assert from 'node:assert/strict';
import { test } from 'node:test';
import { act, control, metric, scrape, startSim, type Family } from './sim-helpers.js';
import {
  accepted,
  allowList,
  clusterNetworking,
  configurePeer,
  enablePeering,
  hostIdOf,
  inventoryNode,
  pin,
  reach,
  TWO_SITES,
  type NodeAnswer,
} from './peering-helpers.js';

const NY_NODE = 'node-new-york-001';
const HALF_HOUR_MS = 30 * 60_000;

/** proxy_peer_client_connections of a page: state by remote host id. */
function peerStates(page: Map<string, Family>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of page.get('proxy_peer_client_connections')?.samples ?? []) {
    assert.equal(s.value, 1);
    out[s.labels['remote_id'] ?? ''] = s.labels['state'] ?? '';
  }
  return out;
}

function dialErrors(page: Map<string, Family>, type: string): number {
  return page.get('proxy_peer_client_dial_error_total')?.samples.find((s) => s.labels['error_type'] === type)?.value ?? 0;
}

test('reach: a tunnel, then a peer in the same region, then across regions only when the allow-list opens the link', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8 });
  // The end-to-end case: a New York node tunnelled only to Chicago.
  await pin(sim, NY_NODE, ['chi-1']);

  assert.deepEqual(await reach(sim, 'chi-1', NY_NODE), { proxy: 'chi-1', node: NY_NODE, reachable: true, via: 'tunnel' });
  const off = await reach(sim, 'nyc-1', NY_NODE);
  assert.equal(off.reachable, false);
  assert.equal(off.via, null);
  assert.match(off.reason ?? '', /proxy peering is off/);

  await enablePeering(sim);
  const noListener = await reach(sim, 'nyc-1', NY_NODE);
  assert.equal(noListener.reachable, false);
  assert.match(noListener.reason ?? '', /chi-1: no peer listener/);

  await configurePeer(sim, 'chi-1');
  assert.deepEqual(await reach(sim, 'chi-2', NY_NODE), { proxy: 'chi-2', node: NY_NODE, reachable: true, via: 'peer', peer: 'chi-1' }, 'one site needs no rule');
  const blocked = await reach(sim, 'nyc-1', NY_NODE);
  assert.equal(blocked.reachable, false);
  assert.match(blocked.reason ?? '', /chi-1: nyc-1 → chi-1 is not on the allow-list/);

  await accepted(sim, 'peer-allow-list', allowList(1, [['nyc-1', 'chi-1']]));
  assert.deepEqual(await reach(sim, 'nyc-1', NY_NODE), { proxy: 'nyc-1', node: NY_NODE, reachable: true, via: 'peer', peer: 'chi-1' });
  assert.equal((await reach(sim, 'nyc-2', NY_NODE)).reachable, false, 'the rule is per proxy pair');

  // Lookup by node id gives the same answer.
  const node = (await inventoryNode(sim, NY_NODE))?.metadata.name ?? '';
  assert.equal((await reach(sim, 'nyc-1', node)).via, 'peer');

  // The link closes again with a newer list; and with peering off nothing goes through a peer.
  await accepted(sim, 'peer-allow-list', allowList(2, []));
  assert.equal((await reach(sim, 'nyc-1', NY_NODE)).reachable, false);
  await accepted(sim, 'cluster-networking', clusterNetworking('agent_mesh'));
  assert.equal((await reach(sim, 'chi-2', NY_NODE)).reachable, false);
  assert.equal((await reach(sim, 'chi-1', NY_NODE)).via, 'tunnel');
});

test('reach: a node whose only proxy is down has no tunnel; a stopped proxy dials nothing', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8 });
  await pin(sim, NY_NODE, ['chi-1']);
  await enablePeering(sim);
  await act(sim, 'chi-1', 'shutdown', { mode: 'immediate' });
  const gone = await reach(sim, 'nyc-1', NY_NODE);
  assert.equal(gone.reachable, false);
  assert.match(gone.reason ?? '', /holds no tunnel to any proxy/);
  const fromStopped = await reach(sim, 'chi-1', NY_NODE);
  assert.equal(fromStopped.reachable, false);
  assert.match(fromStopped.reason ?? '', /proxy chi-1 is not running/);
});

test('reach and nodes: 400 names the missing parameter, 404 an unknown proxy or node', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8 });
  const cases: [string, string, number, RegExp, string | undefined][] = [
    ['GET', '/reach?node=x', 400, /proxy: is required/, 'proxy'],
    ['GET', '/reach?proxy=nyc-1', 400, /node: is required/, 'node'],
    ['GET', `/reach?proxy=nyc-1&node=${NY_NODE}&via=peer`, 400, /via: unknown query parameter/, 'via'],
    ['GET', `/reach?proxy=mars-1&node=${NY_NODE}`, 404, /no proxy named "mars-1"/, undefined],
    ['GET', '/reach?proxy=nyc-1&node=node-mars-001', 404, /no node with id or hostname "node-mars-001"/, undefined],
    ['POST', '/reach?proxy=nyc-1', 405, /use GET/, undefined],
    ['POST', '/nodes', 405, /use GET/, undefined],
    ['POST', '/peering', 405, /use GET/, undefined],
    ['PUT', '/nodes/node-mars-001/tunnels', 404, /no node with id or hostname/, undefined],
    ['POST', `/nodes/${NY_NODE}/tunnels`, 405, /use PUT, DELETE/, undefined],
  ];
  for (const [method, path, status, message, field] of cases) {
    const r = await control(sim, method, path, method === 'PUT' ? { proxies: [] } : undefined);
    assert.equal(r.status, status, `${method} ${path}`);
    const e = r.json as { error: string; field?: string };
    assert.match(e.error, message, `${method} ${path}`);
    assert.equal(e.field, field, `${method} ${path}`);
  }
  const bodies: [unknown, string, RegExp][] = [
    [{}, 'proxies', /is required/],
    [{ proxies: 'chi-1' }, 'proxies', /must be a list/],
    [{ proxies: ['chi-1', 'mars-1'] }, 'proxies[1]', /no proxy named "mars-1"/],
    [{ proxies: ['chi-1', 'chi-1'] }, 'proxies[1]', /repeats "chi-1"/],
    [{ proxies: ['chi-1'], keep: true }, 'keep', /unknown field/],
  ];
  for (const [body, field, message] of bodies) {
    const r = await control(sim, 'PUT', `/nodes/${NY_NODE}/tunnels`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    const e = r.json as { error: string; field?: string };
    assert.equal(e.field, field);
    assert.match(e.error, message);
  }
});

test('pin and unpin: a pinned node holds exactly its proxies while they are up; unpinned, it returns to its region', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8, agentConnectionCount: 2 });
  // Agents report proxy_ids only under proxy_peering.
  await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
  const listed = (await control(sim, 'GET', '/nodes')).json as NodeAnswer[];
  assert.equal(listed.length, 8);
  for (const n of listed) {
    assert.equal(n.pinned, false);
    assert.equal(n.proxies.length, 2);
    assert.equal(n.hostname.startsWith(`node-${n.region}-`), true);
  }

  const pinned = await pin(sim, NY_NODE, ['chi-1']);
  assert.deepEqual({ hostname: pinned.hostname, region: pinned.region, proxies: pinned.proxies, pinned: pinned.pinned }, { hostname: NY_NODE, region: 'new-york', proxies: ['chi-1'], pinned: true });
  assert.deepEqual((await inventoryNode(sim, NY_NODE))?.spec.proxy_ids, [hostIdOf(sim, 'chi-1')]);

  // A day of blips elsewhere: the pinned node never flaps or moves.
  for (let i = 0; i < 48; i++) {
    sim.advance(HALF_HOUR_MS);
    assert.deepEqual((await inventoryNode(sim, NY_NODE))?.spec.proxy_ids, [hostIdOf(sim, 'chi-1')], `after ${i + 1} half hours`);
  }

  await act(sim, 'chi-1', 'shutdown', { mode: 'immediate' });
  assert.deepEqual((await inventoryNode(sim, NY_NODE))?.spec.proxy_ids, undefined, 'the tunnel goes with its proxy (an empty list is omitted)');
  sim.advance(60_000);
  assert.deepEqual((await inventoryNode(sim, NY_NODE))?.spec.proxy_ids, undefined, 'and does not move elsewhere');
  await act(sim, 'chi-1', 'restart', {});
  sim.advance(25_000);
  assert.deepEqual((await inventoryNode(sim, NY_NODE))?.spec.proxy_ids, [hostIdOf(sim, 'chi-1')], 'back once its proxy is up');
  assert.ok(metric(await scrape(sim, 'chi-1'), 'teleport_reverse_tunnels_connected', { type: 'node' }) >= 1);

  const two = await pin(sim, NY_NODE, ['chi-2', 'nyc-2']);
  assert.deepEqual(two.proxies, ['chi-2', 'nyc-2']);
  assert.deepEqual((await inventoryNode(sim, NY_NODE))?.spec.proxy_ids, [hostIdOf(sim, 'chi-2'), hostIdOf(sim, 'nyc-2')]);

  const r = await control(sim, 'DELETE', `/nodes/${NY_NODE}/tunnels`);
  assert.equal(r.status, 200);
  const free = r.json as NodeAnswer;
  assert.equal(free.pinned, false);
  assert.deepEqual([...free.proxies].sort(), ['nyc-1', 'nyc-2'], 'straight back to its own region');
  assert.deepEqual([...((await inventoryNode(sim, NY_NODE))?.spec.proxy_ids ?? [])].sort(), [hostIdOf(sim, 'nyc-1'), hostIdOf(sim, 'nyc-2')].sort());
  assert.equal(((await control(sim, 'GET', '/nodes')).json as NodeAnswer[]).find((n) => n.hostname === NY_NODE)?.pinned, false);
});

test('peer metrics: READY for reachable peers, TRANSIENT_FAILURE for blocked or listener-less ones, nothing while peering is off', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8 });
  const id = (name: string): string => hostIdOf(sim, name);
  assert.equal((await scrape(sim, 'nyc-1')).get('proxy_peer_client_connections'), undefined, 'no series while peering is off');

  await enablePeering(sim);
  await configurePeer(sim, 'chi-1');
  await configurePeer(sim, 'chi-2');
  await accepted(sim, 'peer-allow-list', allowList(1, [['nyc-1', 'chi-1']]));
  const page = await scrape(sim, 'nyc-1');
  const family = page.get('proxy_peer_client_connections');
  assert.equal(family?.type, 'gauge');
  assert.equal(family?.help, 'Number of currently opened connection to proxy peer servers.');
  for (const s of family?.samples ?? []) assert.equal(s.labels['local_id'], id('nyc-1'));
  assert.deepEqual(peerStates(page), { [id('nyc-2')]: 'TRANSIENT_FAILURE', [id('chi-1')]: 'READY', [id('chi-2')]: 'TRANSIENT_FAILURE' });
  assert.deepEqual(peerStates(await scrape(sim, 'chi-2')), { [id('nyc-1')]: 'TRANSIENT_FAILURE', [id('nyc-2')]: 'TRANSIENT_FAILURE', [id('chi-1')]: 'READY' });

  await configurePeer(sim, 'nyc-2');
  await act(sim, 'chi-2', 'shutdown', { mode: 'immediate' });
  assert.deepEqual(peerStates(await scrape(sim, 'nyc-1')), { [id('nyc-2')]: 'READY', [id('chi-1')]: 'READY' }, 'a stopped peer has no connection');

  // The strategy is read at start: back to agent_mesh, the peer client goes only with a restart.
  await accepted(sim, 'cluster-networking', clusterNetworking('agent_mesh'));
  assert.ok((await scrape(sim, 'nyc-1')).get('proxy_peer_client_connections'));
  await act(sim, 'nyc-1', 'restart', {});
  assert.equal((await scrape(sim, 'nyc-1')).get('proxy_peer_client_connections'), undefined);
});

test('a tunnel strategy change takes effect at each proxy\'s restart: no peer listener or client before', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8 });
  await configurePeer(sim, 'chi-1');
  await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
  const peering = async () => (await control(sim, 'GET', '/peering')).json as { listeners: Record<string, string> };
  assert.deepEqual((await peering()).listeners, {}, 'configured under agent_mesh: no listener');
  assert.equal((await scrape(sim, 'nyc-1')).get('proxy_peer_client_connections'), undefined, 'started under agent_mesh: no peer client');
  await act(sim, 'chi-1', 'restart', {});
  await act(sim, 'nyc-1', 'restart', {});
  sim.advance(20_000);
  assert.deepEqual((await peering()).listeners, { 'chi-1': 'chi-1.example.com:3021' });
  assert.deepEqual(peerStates(await scrape(sim, 'nyc-1'))[hostIdOf(sim, 'chi-1')], 'TRANSIENT_FAILURE', 'a client now, the firewall still closed');
  const proxies = (await control(sim, 'GET', '/inventory/proxies')).json as { spec: { hostname: string; peer_addr?: string } }[];
  assert.deepEqual(proxies.filter((p) => p.spec.peer_addr).map((p) => [p.spec.hostname, p.spec.peer_addr]), [['chi-1', 'chi-1.example.com:3021']], 'the heartbeat advertises peer_addr');
});

test('background dials: counted only with peering on; PROXIES_UNREACHABLE when tunnels are out of reach, TUNNEL_NOT_FOUND without any', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8 });
  await pin(sim, NY_NODE, ['chi-1']);
  await pin(sim, 'node-chicago-001', []);
  const totals = async (): Promise<{ unreachable: number; notFound: number; attempts: number; failures: number }> => {
    const out = { unreachable: 0, notFound: 0, attempts: 0, failures: 0 };
    for (const p of sim.proxies) {
      const page = await scrape(sim, p.name);
      out.unreachable += dialErrors(page, 'PROXIES_UNREACHABLE');
      out.notFound += dialErrors(page, 'TUNNEL_NOT_FOUND');
      out.attempts += metric(page, 'teleport_connect_to_node_attempts_total');
      out.failures += metric(page, 'failed_connect_to_node_attempts_total');
    }
    return out;
  };

  for (let i = 0; i < 4; i++) sim.advance(HALF_HOUR_MS);
  const off = await totals();
  assert.equal(off.unreachable, 0, 'no peer dial errors without peering');
  assert.equal(off.notFound, 0);
  assert.equal((await scrape(sim, 'nyc-1')).get('proxy_peer_client_dial_error_total'), undefined, 'a CounterVec: no series before the first error');

  await enablePeering(sim);
  for (let i = 0; i < 4; i++) sim.advance(HALF_HOUR_MS);
  const on = await totals();
  assert.ok(on.unreachable > 0, `nodes out of reach without listeners: ${on.unreachable}`);
  assert.ok(on.notFound > 0, `the cut-off node: ${on.notFound}`);
  const errors = on.unreachable + on.notFound;
  assert.ok(on.failures - off.failures >= errors, 'every dial error is a failed connect');
  assert.ok(on.attempts - off.attempts > on.failures - off.failures, 'most dials still succeed');
  const page = await scrape(sim, 'nyc-1');
  assert.equal(page.get('proxy_peer_client_dial_error_total')?.type, 'counter');

  // Every proxy listens and every cross-site pair is open: no dial misses a reachable tunnel.
  for (const p of sim.proxies) await configurePeer(sim, p.name);
  const names = sim.proxies.map((p) => p.name);
  const pairs = names.flatMap((from) => names.filter((to) => to !== from).map((to) => [from, to] as const));
  await accepted(sim, 'peer-allow-list', allowList(1, pairs));
  for (let i = 0; i < 4; i++) sim.advance(HALF_HOUR_MS);
  const open = await totals();
  assert.equal(open.unreachable, on.unreachable, 'no PROXIES_UNREACHABLE once every link is open');
  assert.ok(open.notFound > on.notFound, 'the node without tunnels still has none');
  assert.deepEqual(await reach(sim, 'chi-2', NY_NODE), { proxy: 'chi-2', node: NY_NODE, reachable: true, via: 'peer', peer: 'chi-1' });
});
