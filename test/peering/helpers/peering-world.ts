import type { AllowListDocument, PeeringActions } from '../../../src/adapters/peering/peering-actions.js';
import type { InventorySource, ReadInventory } from '../../../src/adapters/teleport/inventory-reader.js';
import type { ProxyFleetSpec } from '../../../src/model/fleet.js';
import { err, ok } from '../../../src/model/result.js';
import type { FleetSnapshot } from '../../../src/model/snapshot.js';
import type { ConfigureProxy } from '../../../src/peering/peering-reconciler.js';
import { metrics, observation, snapshot } from '../../helpers/snapshot-fixture.js';
import type { CrashPoints } from './crash-points.js';

/** What PeeringWorld.saveState keeps. */
export interface WorldState {
  readonly nodes: Map<string, { region: string; proxies: string[] }>;
  readonly strategy: { type: string; agentConnectionCount?: number };
  readonly listeners: Set<string>;
  readonly allowList: AllowListDocument | undefined;
  readonly tctlCalls: string[];
  readonly generations: AllowListDocument[];
  readonly configureIds: string[];
  readonly observations: number;
}

const hostId = (proxy: string): string => `host-${proxy}`;

/**
 * A Teleport cluster, its proxies' automation and a firewall, as the reconciler reaches them,
 * keeping on the receiving side what each change did: every tctl create of the cluster
 * networking resource, every allow-list generation taken, every configure request (dropped when
 * its id was seen, as a receiver does by X-Meridian-Id). Changes are crash points.
 */
export class PeeringWorld {
  nodes = new Map<string, { region: string; proxies: string[] }>();
  strategy: { type: string; agentConnectionCount?: number } = { type: 'agent_mesh' };
  listeners = new Set<string>();
  allowList: AllowListDocument | undefined;
  readonly tctlCalls: string[] = [];
  readonly generations: AllowListDocument[] = [];
  readonly configureIds: string[] = [];
  private observations = 0;

  constructor(
    readonly fleet: ProxyFleetSpec,
    private readonly points: CrashPoints,
  ) {}

  /** Everything that changes as the world runs, to go on from there in a copy (restore). */
  saveState(): WorldState {
    return structuredClone({ nodes: this.nodes, strategy: this.strategy, listeners: this.listeners, allowList: this.allowList, tctlCalls: this.tctlCalls, generations: this.generations, configureIds: this.configureIds, observations: this.observations });
  }

  restore(state: WorldState): void {
    const s = structuredClone(state);
    this.nodes = s.nodes;
    this.strategy = s.strategy;
    this.listeners = s.listeners;
    this.allowList = s.allowList;
    this.tctlCalls.splice(0, Infinity, ...s.tctlCalls);
    this.generations.splice(0, Infinity, ...s.generations);
    this.configureIds.splice(0, Infinity, ...s.configureIds);
    this.observations = s.observations;
  }

  get peering(): boolean {
    return this.strategy.type === 'proxy_peering';
  }

  private peerAddrOf(proxy: string): string {
    return `${new URL(this.fleet.proxies.find((p) => p.name === proxy)?.diagnosticUrl ?? 'http://x').hostname}:3021`;
  }

  readonly read: ReadInventory = async (source: InventorySource) => {
    const from = source.url ?? '';
    if (from.endsWith('/cnc')) {
      const ts = this.peering ? { type: 'proxy_peering', agent_connection_count: this.strategy.agentConnectionCount } : { type: 'agent_mesh' };
      return ok({ from, body: JSON.stringify([{ kind: 'cluster_networking_config', version: 'v2', metadata: { name: 'cluster-networking-config', labels: { 'teleport.dev/origin': 'defaults' } }, spec: { tunnel_strategy: ts } }]) });
    }
    if (from.endsWith('/proxies')) {
      const proxies = this.fleet.proxies.map((p) => ({ kind: 'proxy', metadata: { name: hostId(p.name) }, spec: { hostname: p.name, ...(this.listeners.has(p.name) ? { peer_addr: this.peerAddrOf(p.name) } : {}) } }));
      return ok({ from, body: JSON.stringify(proxies) });
    }
    // Agents report proxy_ids only under proxy_peering.
    const body = [...this.nodes].map(([name, n]) => ({ kind: 'node', metadata: { name, labels: { region: n.region } }, spec: { hostname: name, ...(this.peering ? { proxy_ids: n.proxies.map(hostId) } : {}) } }));
    return ok({ from, body: JSON.stringify(body) });
  };

  readonly actions: PeeringActions = {
    applyClusterNetworking: (_a, id, write) =>
      this.points.around(async () => {
        this.tctlCalls.push(id);
        const ts = (write.resource['spec'] as { tunnel_strategy: { type: string; agent_connection_count: number } }).tunnel_strategy;
        this.strategy = { type: ts.type, agentConnectionCount: ts.agent_connection_count };
        return ok(undefined);
      }),
    // A webhook alone cannot be read back.
    readAllowListGeneration: async (target) => ok(target.readUrl || target.file ? (this.allowList?.generation ?? null) : undefined),
    publishAllowList: (_t, doc) =>
      this.points.around(async () => {
        const same = this.allowList && doc.generation === this.allowList.generation && JSON.stringify(doc.rules) === JSON.stringify(this.allowList.rules);
        if (same) return ok(undefined);
        if (this.allowList && doc.generation <= this.allowList.generation) return err(`stale generation ${doc.generation}`);
        this.allowList = doc;
        this.generations.push(doc);
        return ok(undefined);
      }),
  };

  readonly configure: ConfigureProxy = (req) =>
    this.points.around(async () => {
      if (this.configureIds.includes(req.id)) return ok(undefined);
      this.configureIds.push(req.id);
      // The automation restarts the proxy: its listener opens only under proxy_peering.
      if (this.peering) this.listeners.add(req.proxy.name);
      return ok(undefined);
    });

  private regionOf(proxy: string): string | undefined {
    return this.fleet.proxies.find((p) => p.name === proxy)?.region;
  }

  allowed(from: string, to: string): boolean {
    return this.regionOf(from) === this.regionOf(to) || (this.allowList?.rules.some((r) => r.from === from && r.to === to) ?? false);
  }

  snapshot(): FleetSnapshot {
    const observedAt = new Date(Date.UTC(2026, 0, 1) + ++this.observations * 1_000).toISOString();
    const all = this.fleet.proxies;
    const proxies = all.map((p) => {
      const peerConnections = this.peering ? Object.fromEntries(all.filter((q) => q.name !== p.name).map((q) => [hostId(q.name), [this.listeners.has(q.name) && this.allowed(p.name, q.name) ? 'READY' : 'TRANSIENT_FAILURE']])) : undefined;
      return observation(p.name, p.region, { metrics: metrics(peerConnections ? { peerConnections } : {}) });
    });
    return { ...snapshot(proxies), observedAt };
  }
}
