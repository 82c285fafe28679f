import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { createHookRunner, readSecret, runCommand } from '../../src/adapters/hooks/index.js';
import { createPeeringActions } from '../../src/adapters/peering/peering-actions.js';
import type { Proxy } from '../../src/model/fleet.js';
import { clusterNetworkingConfig, peerPublicAddr, renderAllowList } from '../../src/peering/core/peer-config.js';
import { scrape, startSim } from './sim-helpers.js';
import { hostIdOf, pin, reach, TWO_SITES } from './peering-helpers.js';

test("Meridian's peering adapters drive the simulator: configure, cluster networking and allow-list, all signed", async (t) => {
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

  const run = createHookRunner({ log: pino({ level: 'silent' }), clock, runCommand, readSecret });
  for (const p of proxies) {
    const publicAddr = peerPublicAddr(p, 3021);
    const r = await run({ id: `default/peering/configure/${p.name}/${publicAddr}`, rollout: 'default/peering', action: 'configure', proxy: p, version: p.version, peer: { listenAddr: '0.0.0.0:3021', publicAddr } }, signal);
    assert.equal(r.ok, true, `configure ${p.name}: ${JSON.stringify(r)}`);
  }

  const actions = createPeeringActions({ clock, readSecret, runCommand });
  const target = (hook: string): { url: string; secretFile: string; timeout: string } => ({ url: `${sim.controlUrl}/hooks/${hook}`, secretFile, timeout: '5s' });
  assert.deepEqual(await actions.applyClusterNetworking(target('cluster-networking'), 'default/peering/cluster-networking', clusterNetworkingConfig(2), signal), { ok: true, value: undefined });
  assert.equal((await reach(sim, 'nyc-1', 'node-new-york-001')).reachable, false, 'no link yet');

  const list = renderAllowList([{ from: 'new-york', to: 'chi-1' }], proxies, 3021);
  const doc = { kind: 'PeerAllowList' as const, peering: 'default/peering', generation: 1, generatedAt: new Date().toISOString(), port: 3021, rules: list.rules };
  assert.deepEqual(await actions.publishAllowList(target('peer-allow-list'), doc, signal), { ok: true, value: undefined });

  for (const from of ['nyc-1', 'nyc-2']) {
    assert.deepEqual(await reach(sim, from, 'node-new-york-001'), { proxy: from, node: 'node-new-york-001', reachable: true, via: 'peer', peer: 'chi-1' });
  }
  const ready = (await scrape(sim, 'nyc-1')).get('proxy_peer_client_connections')?.samples.find((s) => s.labels['remote_id'] === hostIdOf(sim, 'chi-1'));
  assert.equal(ready?.labels['state'], 'READY');

  // A stale list (say, a retry delayed behind a newer one) is refused, and Meridian hears why.
  assert.deepEqual(await actions.publishAllowList(target('peer-allow-list'), { ...doc, generation: 2, rules: [] }, signal), { ok: true, value: undefined });
  const stale = await actions.publishAllowList(target('peer-allow-list'), doc, signal);
  assert.equal(stale.ok, false);
  if (!stale.ok) assert.match(stale.error, /409.*generation 1 is older than the applied generation 2/);
});
