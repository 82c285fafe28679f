import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import type { PeeringView } from '../../src/admin/peering-schemas.js';
import { buildConfig } from '../../src/config.js';
import { compressedTimers, startMeridian } from '../../src/main.js';
import { startFleetSim, type ReachView } from '../../src/sim/index.js';
import { simFleetManifest } from '../helpers/sim-fleet.js';
import { waitFor } from '../helpers/wait.js';

const REGIONS = [
  { name: 'new-york', latitude: 40.71, longitude: -74.01, timeZone: 'America/New_York', default: true },
  { name: 'chicago', latitude: 41.88, longitude: -87.63, timeZone: 'America/Chicago' },
];
/** Simulated ms per real ms: ten simulated minutes a real second. */
const TIME_FACTOR = 600;

/**
 * End to end, time-compressed, through the simulator's real interfaces only: a New York node
 * whose tunnel landed on Chicago is reported, a link new-york -> chi-1 is planned, applied
 * (proxy_peering, peer listeners, the allow-list) and verified from the proxies' peer metrics;
 * once the node's tunnel is back in New York and the hold time has passed, the link goes.
 */
test('a New York node tunnelled only to Chicago: reported, linked, verified, then unlinked after its tunnel returns and the hold passes', { timeout: 120_000 }, async (t) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  const proxies = REGIONS.flatMap((r) => [1, 2].map((i) => ({ name: `${r.name === 'new-york' ? 'nyc' : 'chi'}-${i}`, region: r.name, version: '17.4.2', port: 0 })));
  // One node, in New York (the first region).
  const sim = await startFleetSim({ proxies, tickMs: 50, timeFactor: TIME_FACTOR, seed: 5, controlPort: 0, startAt: Date.UTC(2026, 0, 2), nodes: 1 });
  cleanups.push(() => sim.close());
  const control = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${sim.controlUrl}${path}`, init);
    assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const [node] = await control<{ hostname: string; region: string }[]>('/nodes');
  assert.equal(node?.region, 'new-york');
  const hostname = node?.hostname ?? '';
  await control(`/nodes/${hostname}/tunnels`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proxies: ['chi-1'] }) });
  assert.equal((await control<ReachView>(`/reach?proxy=nyc-1&node=${hostname}`)).reachable, false);

  const dir = await mkdtemp(join(tmpdir(), 'meridian-e2e-peering-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  const allowFile = join(dir, 'allow-list.json');
  const peering = {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyPeering',
    metadata: { name: 'edge' },
    spec: {
      inventory: { nodes: { url: `${sim.controlUrl}/inventory/nodes` }, proxies: { url: `${sim.controlUrl}/inventory/proxies` }, interval: '1m' },
      holdTime: '20m',
      verifyTimeout: '10m',
      apply: {
        clusterNetworking: { url: `${sim.controlUrl}/hooks/cluster-networking`, read: { url: `${sim.controlUrl}/cluster-networking` } },
        allowList: { file: allowFile, url: `${sim.controlUrl}/hooks/peer-allow-list` },
      },
    },
  };
  await writeFile(join(manifests, 'fleet.yaml'), `${stringify(simFleetManifest(sim, REGIONS))}---\n${stringify(peering)}`);
  const config = buildConfig([
    { source: 'test', values: { manifestDir: manifests, stateDir: join(dir, 'state'), admin: '127.0.0.1:0', public: '127.0.0.1:0', observeInterval: '150ms', observeTimeout: '120ms' } },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const meridian = await startMeridian(config.value, pino({ level: 'silent' }), { runtime: { clock: sim.clock, timers: compressedTimers(TIME_FACTOR) } });
  cleanups.push(() => meridian.close());
  const view = async (): Promise<PeeringView> => (await fetch(new URL('/api/v1/peerings/default/edge', meridian.adminUrl))).json() as Promise<PeeringView>;
  const link = (v: PeeringView, from: string, to: string) => v.links.find((l) => l.from === from && l.to === to);

  // Reported and linked: the plan names the node and the link; the link comes up.
  const up = await waitFor('new-york -> chi-1 up', async () => {
    const v = await view();
    return link(v, 'new-york', 'chi-1')?.state === 'Up' && v.phase === 'Covered' ? v : undefined;
  }, 60_000, 100);
  assert.deepEqual(up.coverage.map((c) => [c.region, c.reachable, c.nodes]), [['chicago', 1, 1], ['new-york', 1, 1]]);
  const plan = (await (await fetch(new URL('/api/v1/peerings/default/edge/plan', meridian.adminUrl))).json()) as { nodes: { hostname: string; from: string; link?: string }[] };
  assert.deepEqual(plan.nodes.map((n) => [n.hostname, n.from, n.link]), [[hostname, 'new-york', 'new-york->chi-1']]);
  const peer = await control<ReachView>(`/reach?proxy=nyc-2&node=${hostname}`);
  assert.deepEqual([peer.reachable, peer.via, peer.peer], [true, 'peer', 'chi-1']);
  const state = await control<{ tunnelStrategy: { type: string }; listeners: Record<string, string> }>('/peering');
  assert.equal(state.tunnelStrategy.type, 'proxy_peering');
  assert.deepEqual(Object.keys(state.listeners).sort(), ['chi-1', 'chi-2', 'nyc-1', 'nyc-2']);
  const file = JSON.parse(await readFile(allowFile, 'utf8')) as { rules: { from: string; to: string }[] };
  assert.deepEqual(file.rules.map((r) => `${r.from}->${r.to}`), ['nyc-1->chi-1', 'nyc-2->chi-1']);

  // The tunnel comes home: the link is unneeded, held for the hold time, then removed.
  await control(`/nodes/${hostname}/tunnels`, { method: 'DELETE' });
  const held = await waitFor('the link unneeded', async () => {
    const l = link(await view(), 'new-york', 'chi-1');
    return l?.unneededSince ? l : undefined;
  }, 30_000, 100);
  const heldSince = Date.parse(held.unneededSince ?? '');
  const gone = await waitFor('the link removed', async () => {
    const v = await view();
    return link(v, 'new-york', 'chi-1') ? undefined : v;
  }, 60_000, 100);
  assert.ok(sim.clock.now() - heldSince >= 20 * 60_000, 'not before the hold time');
  assert.ok(!gone.links.some((l) => l.from === 'new-york'), 'New York needs no link now');
  // The plan drops the link first; the allow-list is the next pass's one outside change.
  await waitFor('the allow-list no longer to let New York dial Chicago', async () => {
    const after = JSON.parse(await readFile(allowFile, 'utf8')) as { rules: { from: string }[] };
    return after.rules.every((r) => r.from.startsWith('chi-')) ? true : undefined;
  }, 30_000, 100);
  const home = await control<ReachView>(`/reach?proxy=nyc-1&node=${hostname}`);
  assert.ok(home.reachable && (home.via === 'tunnel' || home.peer?.startsWith('nyc-')), `reached at home: ${JSON.stringify(home)}`);
});

/**
 * The done-when of issue 13: Covered, then the simulated cluster restarted (agent_mesh, no
 * allow-list, no peer listeners) and the controller restarted on the same state directory:
 * Meridian finds the drift from what it observes, re-applies it, and is Covered again within two
 * inventory intervals of sim time.
 */
test('a world reset behind Meridian\'s back, and a controller restart on the same state: Covered again within two inventory intervals', { timeout: 120_000 }, async (t) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const proxies = REGIONS.flatMap((r) => [1, 2].map((i) => ({ name: `${r.name === 'new-york' ? 'nyc' : 'chi'}-${i}`, region: r.name, version: '17.4.2', port: 0 })));
  // Slower than the other test: a controller restart's real time must stay small against two intervals of sim time.
  const timeFactor = 120;
  const options = { proxies, tickMs: 50, timeFactor, seed: 5, controlPort: 0, startAt: Date.UTC(2026, 0, 2), nodes: 1 };
  let sim = await startFleetSim(options);
  cleanups.push(() => sim.close());
  // The controller's clock follows whichever simulator runs.
  const clock = { now: () => sim.clock.now() };
  const pinToChicago = async (): Promise<void> => {
    // A pooled connection to the previous simulator may be dead: the first answer that comes.
    const nodes = await waitFor('the control API', () => fetch(`${sim.controlUrl}/nodes`).then((r) => r.json() as Promise<{ hostname: string }[]>, () => undefined), 10_000, 20);
    const [node] = nodes;
    const res = await fetch(`${sim.controlUrl}/nodes/${node?.hostname ?? ''}/tunnels`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proxies: ['chi-1'] }) });
    assert.equal(res.status, 200);
  };
  await pinToChicago();

  const dir = await mkdtemp(join(tmpdir(), 'meridian-e2e-peering-reset-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  const peering = {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyPeering',
    metadata: { name: 'edge' },
    spec: {
      // Two intervals are 10 s of real time at this time factor: a controller restart takes well under that.
      inventory: { nodes: { url: `${sim.controlUrl}/inventory/nodes` }, proxies: { url: `${sim.controlUrl}/inventory/proxies` }, interval: '10m' },
      verifyTimeout: '10m',
      apply: {
        clusterNetworking: { url: `${sim.controlUrl}/hooks/cluster-networking`, read: { url: `${sim.controlUrl}/cluster-networking` } },
        allowList: { url: `${sim.controlUrl}/hooks/peer-allow-list`, readUrl: `${sim.controlUrl}/peer-allow-list` },
      },
    },
  };
  await writeFile(join(manifests, 'fleet.yaml'), `${stringify(simFleetManifest(sim, REGIONS))}---\n${stringify(peering)}`);
  const config = buildConfig([
    { source: 'test', values: { manifestDir: manifests, stateDir: join(dir, 'state'), admin: '127.0.0.1:0', public: '127.0.0.1:0', observeInterval: '150ms', observeTimeout: '120ms' } },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const start = () => startMeridian(config.value, pino({ level: 'silent' }), { runtime: { clock, timers: compressedTimers(timeFactor) } });
  let meridian = await start();
  cleanups.push(() => meridian.close());
  const view = async (): Promise<PeeringView & { conditions?: { type: string; status: string }[] }> =>
    (await fetch(new URL('/api/v1/peerings/default/edge', meridian.adminUrl))).json() as Promise<PeeringView & { conditions?: { type: string; status: string }[] }>;
  const coveredAndUp = async () => {
    const v = await view();
    return v.phase === 'Covered' && v.links.some((l) => l.from === 'new-york' && l.to === 'chi-1' && l.state === 'Up') ? v : undefined;
  };
  await waitFor('Covered the first time', coveredAndUp, 60_000, 50).catch(async (e: unknown) => {
    throw new Error(`${String(e)}: ${JSON.stringify(await view())}`);
  });

  // The world restarts on the same addresses: agent_mesh, no allow-list, no listeners; the node is tunnelled to Chicago again.
  const ports = sim.proxies.map((p) => Number(new URL(p.diagnosticUrl).port));
  const controlPort = Number(new URL(sim.controlUrl).port);
  const resetAt = sim.clock.now();
  await sim.close();
  sim = await startFleetSim({ ...options, startAt: resetAt, controlPort, proxies: proxies.map((p, i) => ({ ...p, port: ports[i] ?? 0 })) });
  await pinToChicago();
  const fresh = (await (await fetch(`${sim.controlUrl}/peering`)).json()) as { tunnelStrategy: { type: string }; allowList: { generation: number | null }; listeners: Record<string, string> };
  assert.deepEqual([fresh.tunnelStrategy.type, fresh.allowList.generation, Object.keys(fresh.listeners).length], ['agent_mesh', null, 0]);
  // And the controller restarts on the same state directory, its status saying all is applied.
  await meridian.close();
  meridian = await start();

  const applied = async () => {
    const st = (await (await fetch(`${sim.controlUrl}/peering`)).json()) as typeof fresh;
    return st.tunnelStrategy.type === 'proxy_peering' && st.allowList.generation !== null && Object.keys(st.listeners).length === 4;
  };
  const again = await waitFor('Covered again, on a cluster set up again', async () => ((await applied()) ? coveredAndUp() : undefined), 60_000, 50);
  assert.ok(sim.clock.now() - resetAt <= 2 * 10 * 60_000, `Covered again ${(sim.clock.now() - resetAt) / 1000} s (sim) after the reset`);
  assert.equal(again.phase, 'Covered');
  const state = (await (await fetch(`${sim.controlUrl}/peering`)).json()) as typeof fresh;
  assert.equal(state.tunnelStrategy.type, 'proxy_peering');
  assert.ok(state.allowList.generation !== null, 'the allow-list was published again');
  assert.deepEqual(Object.keys(state.listeners).sort(), ['chi-1', 'chi-2', 'nyc-1', 'nyc-2']);
  const metrics = await (await fetch(new URL('/metrics', meridian.adminUrl))).text();
  assert.match(metrics, /meridian_peering_drift_total\{peering="default\/edge",what="cluster_networking"\} 1/);
});
