import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { createHookRunner, readSecret, runCommand } from '../../src/adapters/hooks/index.js';
import { createPeeringActions } from '../../src/adapters/peering/peering-actions.js';
import type { Proxy } from '../../src/model/fleet.js';
import { createInventoryReader } from '../../src/adapters/teleport/inventory-reader.js';
import { parseClusterNetworking, peerPublicAddr, renderAllowList, withProxyPeering } from '../../src/peering/core/peer-config.js';
import { control, scrape, startSim } from './sim-helpers.js';
import { hostIdOf, pin, reach, TWO_SITES } from './peering-helpers.js';

test("Meridian's peering adapters drive the simulator: cluster networking (read, modified, written back), configure and allow-list, all signed", async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, nodes: 8, hookSecret: 'sim-key' });
  const dir = await mkdtemp(join(tmpdir(), 'meridian-sim-peering-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'key');
  await writeFile(secretFile, 'sim-key\n');
  const signal = new AbortController().signal;
  const clock = { now: () => Date.now() };
  const proxies: Proxy[] = sim.proxies.map((p) => ({
    name: p.name,
    region: p.region,
    publicUrl: `https://${p.name}.example.com`,
    diagnosticUrl: p.diagnosticUrl,
    version: '17.4.2',
    upgrade: { method: 'webhook' as const, url: `${sim.controlUrl}/hooks/upgrade`, secretFile, timeout: '5s' },
  }));
  await pin(sim, 'node-new-york-001', ['chi-1']);

  const readInventory = createInventoryReader({ runCommand });
  const actions = createPeeringActions({ clock, readSecret, runCommand, readInventory });
  const target = (hook: string): { url: string; secretFile: string; timeout: string } => ({ url: `${sim.controlUrl}/hooks/${hook}`, secretFile, timeout: '5s' });
  const cnTarget = { ...target('cluster-networking'), read: { url: `${sim.controlUrl}/cluster-networking` } };
  const read = async () => {
    const body = await readInventory({ url: `${sim.controlUrl}/cluster-networking` }, { timeoutMs: 5_000, signal });
    assert.ok(body.ok);
    const cn = parseClusterNetworking(body.value.body, body.value.from);
    assert.ok(cn.ok, cn.ok ? '' : cn.error);
    return cn.value;
  };
  const current = await read();
  assert.deepEqual([current.strategy, current.origin], [{ type: 'agent_mesh' }, 'defaults']);
  assert.deepEqual(await actions.applyClusterNetworking(cnTarget, 'default/peering/cluster-networking', withProxyPeering(current, 2), signal), { ok: true, value: undefined });
  const written = await read();
  assert.deepEqual(written.resource['spec'], { keep_alive_interval: '5m0s', keep_alive_count_max: 3, tunnel_strategy: { type: 'proxy_peering', agent_connection_count: 2 } }, 'only tunnel_strategy changed');
  assert.equal(written.origin, 'dynamic', 'a second write needs -f');

  const run = createHookRunner({ log: pino({ level: 'silent' }), clock, runCommand, readSecret });
  for (const p of proxies) {
    const publicAddr = peerPublicAddr(p, 3021);
    const r = await run({ id: `default/peering/configure/${p.name}/${publicAddr}`, rollout: 'default/peering', action: 'configure', proxy: p, version: p.version, peer: { listenAddr: '0.0.0.0:3021', publicAddr } }, signal);
    assert.equal(r.ok, true, `configure ${p.name}: ${JSON.stringify(r)}`);
  }

  assert.equal((await reach(sim, 'nyc-1', 'node-new-york-001')).reachable, false, 'no link yet');

  const list = renderAllowList([{ from: 'new-york', to: 'chi-1' }], proxies, 3021);
  const doc = { kind: 'PeerAllowList' as const, peering: 'default/peering', generation: 1, generatedAt: new Date().toISOString(), port: 3021, rules: list.rules };
  assert.deepEqual(await actions.publishAllowList(target('peer-allow-list'), doc, signal), { ok: true, value: undefined });
  const readBack = { url: target('peer-allow-list').url, readUrl: `${sim.controlUrl}/peer-allow-list` };
  assert.deepEqual(await actions.readAllowListGeneration(readBack, signal), { ok: true, value: 1 }, 'the firewall acknowledges what it holds');

  for (const from of ['nyc-1', 'nyc-2']) {
    assert.deepEqual(await reach(sim, from, 'node-new-york-001'), { proxy: from, node: 'node-new-york-001', reachable: true, via: 'peer', peer: 'chi-1' }, `${from}: ${JSON.stringify((await control(sim, 'GET', '/peering')).json)}`);
  }
  const ready = (await scrape(sim, 'nyc-1')).get('proxy_peer_client_connections')?.samples.find((s) => s.labels['remote_id'] === hostIdOf(sim, 'chi-1'));
  assert.equal(ready?.labels['state'], 'READY');

  // A stale list (say, a retry delayed behind a newer one) is refused, and Meridian hears why.
  assert.deepEqual(await actions.publishAllowList(target('peer-allow-list'), { ...doc, generation: 2, rules: [] }, signal), { ok: true, value: undefined });
  const stale = await actions.publishAllowList(target('peer-allow-list'), doc, signal);
  assert.equal(stale.ok, false);
  if (!stale.ok) assert.match(stale.error, /409.*generation 1 is older than the applied generation 2/);
});
