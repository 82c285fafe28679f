import type { Logger } from 'pino';
import { err, ok, type Result } from '../model/result.js';
import type { TunnelStrategy } from './cluster-networking-input.js';
import type { PeerListener } from './configure-input.js';
import { dialCount, pickDialTarget } from './node-dials.js';
import type { NodeState, NodeTunnels } from './node-tunnels.js';
import { peerConnections, reachNode, type NodeReach, type PeerConnection, type PeerSide } from './peer-reach.js';
import type { AllowListView, PeeringState } from './peering-state.js';
import type { Prng } from './prng.js';
import type { ProxyView, SimProxy } from './sim-proxy.js';

/** GET /nodes: one node and where its tunnels are. */
export interface NodeListing {
  readonly id: string;
  readonly hostname: string;
  readonly region: string;
  readonly proxies: readonly string[];
  readonly pinned: boolean;
}

/** GET /reach: whether `proxy` can dial `node` now, and how. */
export interface ReachView {
  readonly proxy: string;
  readonly node: string;
  readonly reachable: boolean;
  readonly via: 'tunnel' | 'peer' | null;
  readonly peer?: string;
  readonly reason?: string;
}

/** GET /peering. */
export interface PeeringView {
  readonly tunnelStrategy: TunnelStrategy;
  readonly allowList: AllowListView;
  /** peer_public_addr by proxy name, for proxies whose peer listener runs. */
  readonly listeners: Readonly<Record<string, string>>;
}

/** A control request the fleet cannot serve: 404 (unknown name) or 409 (state forbids it). */
export interface Denial {
  readonly status: 404 | 409;
  readonly error: string;
}

function side(p: SimProxy): PeerSide {
  return { name: p.name, region: p.region, hostId: p.hostId, up: p.up, peerAddr: p.peerAddr, peerClient: p.peerClient };
}

function listing(n: NodeState): NodeListing {
  return { id: n.id, hostname: n.hostname, region: n.region, proxies: n.holders.map((h) => h.name), pinned: n.pinned };
}

/**
 * Proxy peering across the simulated fleet: applies the reach rule to the proxies and node
 * tunnels as they are, feeds each proxy's peer metrics, and makes the background dials.
 *
 * Simplification: Teleport agents keep agent_connection_count tunnels under proxy_peering and
 * one per proxy under agent_mesh; the simulated agents keep the fleet's `agentConnectionCount`
 * whatever the strategy, so turning peering on changes who can reach a node, not the tunnels.
 * As in Teleport, a proxy opens its peer listener and client only when it starts under
 * proxy_peering: switching the strategy changes nothing until each proxy restarts.
 */
export class FleetPeering {
  constructor(
    readonly state: PeeringState,
    private readonly proxies: readonly SimProxy[],
    private readonly tunnels: NodeTunnels,
    /** Drawn from only while peering is on, so runs without it are as they always were. */
    private readonly dialRng: Prng,
    private readonly log: Logger | undefined,
  ) {}

  connectionsFrom(p: SimProxy): readonly PeerConnection[] {
    return peerConnections(side(p), this.proxies.map(side), this.state);
  }

  reach(proxyName: string, node: string): Result<ReachView, Denial> {
    const p = this.proxies.find((x) => x.name === proxyName);
    if (!p) return err({ status: 404, error: `no proxy named "${proxyName}"` });
    const n = this.tunnels.find(node);
    if (!n) return err({ status: 404, error: `no node with id or hostname "${node}"` });
    const r = this.reachOf(side(p), n);
    return ok({
      proxy: p.name,
      node: n.hostname,
      reachable: r.reachable,
      via: r.via,
      ...(r.via === 'peer' ? { peer: r.peer } : {}),
      ...(r.reachable ? {} : { reason: r.reason }),
    });
  }

  listNodes(): NodeListing[] {
    return this.tunnels.list().map(listing);
  }

  pin(node: string, proxyNames: readonly string[], now: number): Result<NodeListing, Denial> {
    const chosen = proxyNames.map((name) => this.proxies.find((p) => p.name === name));
    if (chosen.some((p) => p === undefined)) return err({ status: 404, error: `no proxy named "${proxyNames[chosen.indexOf(undefined)]}"` });
    const n = this.tunnels.pin(node, chosen.filter((p): p is SimProxy => p !== undefined), now);
    return n ? ok(listing(n)) : err({ status: 404, error: `no node with id or hostname "${node}"` });
  }

  unpin(node: string, now: number): Result<NodeListing, Denial> {
    const n = this.tunnels.unpin(node, now);
    return n ? ok(listing(n)) : err({ status: 404, error: `no node with id or hostname "${node}"` });
  }

  /**
   * Sets a proxy's peer listener. Teleport wants each peer_public_addr unique, but simulated
   * proxies all live on one loopback host, so a shared address is only logged: the sim routes
   * peer dials by proxy, not by address.
   */
  configure(p: SimProxy, peer: PeerListener): ProxyView {
    const other = this.proxies.find((x) => x !== p && x.peerAddr === peer.publicAddr);
    if (other) this.log?.warn({ proxy: p.name, other: other.name, publicAddr: peer.publicAddr }, 'Peer public address shared with another proxy');
    p.setPeerListener(peer);
    return p.view();
  }

  view(): PeeringView {
    const listeners: Record<string, string> = {};
    for (const p of this.proxies) if (p.peerAddr !== undefined) listeners[p.name] = p.peerAddr;
    return { tunnelStrategy: this.state.strategy, allowList: this.state.allowListView(), listeners };
  }

  /** The background dials of `dtMs` sim time, each counted by the proxy that made it. */
  dial(dtMs: number): void {
    if (!this.state.peering || dtMs <= 0) return;
    const nodes = this.tunnels.list();
    const sides = new Map(this.proxies.map((p) => [p.name, side(p)]));
    for (const p of this.proxies) {
      if (p.state !== 'running' || !p.inRotation) continue;
      const from = sides.get(p.name);
      if (!from) continue;
      const n = dialCount(this.dialRng, dtMs);
      for (let i = 0; i < n; i++) {
        const target = pickDialTarget(this.dialRng, p.region, nodes);
        if (target) p.recordNodeDial(this.reachOf(from, target, sides));
      }
    }
  }

  private reachOf(from: PeerSide, n: NodeState, sides?: ReadonlyMap<string, PeerSide>): NodeReach {
    const holders = n.holders.flatMap((h) => {
      const s = sides?.get(h.name) ?? this.sideOf(h.name);
      return s ? [s] : [];
    });
    return reachNode(from, n.hostname, holders, this.state);
  }

  private sideOf(name: string): PeerSide | undefined {
    const p = this.proxies.find((x) => x.name === name);
    return p && side(p);
  }
}
