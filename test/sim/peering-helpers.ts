import assert from 'node:assert/strict';
import type { FleetSim, FleetSimOptions, ReachView, TctlNode } from '../../src/sim/index.js';
import { control } from './sim-helpers.js';

/** Two sites of two proxies each. */
export const TWO_SITES: FleetSimOptions['proxies'] = [
  { name: 'nyc-1', region: 'new-york', version: '17.4.2' },
  { name: 'nyc-2', region: 'new-york', version: '17.4.2' },
  { name: 'chi-1', region: 'chicago', version: '17.4.2' },
  { name: 'chi-2', region: 'chicago', version: '17.4.2' },
];

export interface HookAnswer {
  readonly accepted?: boolean;
  readonly error?: string;
  readonly field?: string;
  readonly [key: string]: unknown;
}

export async function postHook(sim: FleetSim, hook: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: HookAnswer }> {
  const res = await fetch(`${sim.controlUrl}/hooks/${hook}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as HookAnswer };
}

export function clusterNetworking(type: 'proxy_peering' | 'agent_mesh', count?: number): Record<string, unknown> {
  return {
    kind: 'cluster_networking_config',
    version: 'v2',
    metadata: { name: 'cluster-networking-config' },
    spec: { tunnel_strategy: { type, ...(count === undefined ? {} : { agent_connection_count: count }) } },
  };
}

export function allowList(generation: number, pairs: readonly (readonly [string, string])[]): Record<string, unknown> {
  return {
    kind: 'PeerAllowList',
    generation,
    generatedAt: '2026-01-05T09:00:00Z',
    port: 3021,
    rules: pairs.map(([from, to]) => ({ from, to, toAddress: `${to}.example.com:3021` })),
  };
}

export function configureBody(proxy: string, region: string, id = `peer-${proxy}`, version = '17.4.2'): Record<string, unknown> {
  return {
    type: 'meridian.hook',
    id,
    rollout: 'default/demo',
    action: 'configure',
    proxy,
    region,
    version,
    peer: { listenAddr: '0.0.0.0:3021', publicAddr: `${proxy}.example.com:3021` },
  };
}

/** A hook that must be accepted. */
export async function accepted(sim: FleetSim, hook: string, body: unknown): Promise<HookAnswer> {
  const r = await postHook(sim, hook, body);
  assert.equal(r.status, 200, `POST /hooks/${hook}: ${JSON.stringify(r.json)}`);
  assert.equal(r.json.accepted, true);
  return r.json;
}

/** Sim ms a restarted proxy takes to be ready (the simulator's default startup). */
const STARTUP_MS = 20_000;

/**
 * proxy_peering, then every proxy restarted (as a rollout would), since a proxy opens its peer
 * listener and client only when it starts under proxy_peering.
 */
export async function enablePeering(sim: FleetSim): Promise<void> {
  await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
  for (const p of sim.proxies) {
    const r = await control(sim, 'POST', `/proxies/${p.name}/restart`, {});
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  sim.advance(STARTUP_MS);
}

export async function configurePeer(sim: FleetSim, proxy: string): Promise<void> {
  const region = sim.proxies.find((p) => p.name === proxy)?.region ?? '';
  await accepted(sim, 'upgrade', configureBody(proxy, region));
}


export async function reach(sim: FleetSim, proxy: string, node: string): Promise<ReachView> {
  const r = await control(sim, 'GET', `/reach?proxy=${encodeURIComponent(proxy)}&node=${encodeURIComponent(node)}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as ReachView;
}

export interface NodeAnswer {
  readonly id: string;
  readonly hostname: string;
  readonly region: string;
  readonly proxies: readonly string[];
  readonly pinned: boolean;
}

export async function pin(sim: FleetSim, hostname: string, proxies: readonly string[]): Promise<NodeAnswer> {
  const r = await control(sim, 'PUT', `/nodes/${hostname}/tunnels`, { proxies });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as NodeAnswer;
}

export async function inventoryNode(sim: FleetSim, hostname: string): Promise<TctlNode | undefined> {
  const r = await control(sim, 'GET', '/inventory/nodes');
  assert.equal(r.status, 200);
  return (r.json as TctlNode[]).find((n) => n.spec.hostname === hostname);
}

export function hostIdOf(sim: FleetSim, name: string): string {
  const p = sim.proxies.find((x) => x.name === name);
  assert.ok(p, `proxy ${name}`);
  return p.hostId;
}
