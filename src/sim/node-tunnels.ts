import { uuidFromName } from './host-id.js';
import { HEARTBEAT_TTL_MS, tctlNode, type TctlNode } from './inventory.js';
import type { Prng } from './prng.js';

/** A proxy as node agents see it. */
export interface TunnelEndpoint {
  readonly name: string;
  readonly region: string;
  readonly hostId: string;
  /** Takes new agent tunnels (up and ready). */
  acceptsTunnels(): boolean;
  /** Sim time the process went down, while it is down. */
  downSince(): number | undefined;
  /** It runs a peer client (it started under proxy_peering). */
  readonly peerClient: boolean;
  setTunnelCounts(node: number, missing: number): void;
}

/** Agents reconnect after a jittered backoff. */
const RECONNECT_MIN_MS = 5_000;
const RECONNECT_MAX_MS = 30_000;
/** Mean time between spontaneous drops of one healthy tunnel (network blips). */
const FLAP_MEAN_MS = 12 * 3_600_000;
/** Share of discoveries that land on another region's proxy (the load balancer does not care). */
const REMOTE_DISCOVERY = 0.1;
/** Chance an agent returns to the proxy it held before a blip; otherwise discovery picks again. */
const RETURN_AFTER_BLIP = 0.5;
/** Random tries before falling back to a scan of every proxy. */
const REMOTE_PICK_TRIES = 8;

interface Tunnel {
  proxy: TunnelEndpoint | undefined;
  /** Last proxy held; after a blip the agent may return to it. */
  previous: TunnelEndpoint | undefined;
  retryAt: number;
}

interface SimNode {
  readonly id: string;
  readonly hostname: string;
  readonly region: string;
  readonly version: string;
  tunnels: Tunnel[];
  /** Set by PUT /nodes/:node/tunnels: the node holds tunnels to exactly these, while they are up. */
  pinned: readonly TunnelEndpoint[] | undefined;
  lastSeenAt: number;
}

/** A node as the control API and peering see it. */
export interface NodeState {
  readonly id: string;
  readonly hostname: string;
  readonly region: string;
  readonly pinned: boolean;
  /** The proxies holding its tunnels now. */
  readonly holders: readonly TunnelEndpoint[];
}

export interface NodeTunnelsOptions {
  readonly endpoints: readonly TunnelEndpoint[];
  /** Total nodes, spread round-robin over the regions; undefined = `perRegion` each. */
  readonly nodes: number | undefined;
  readonly perRegion: number;
  readonly connectionCount: number;
  readonly rng: Prng;
  readonly seed: number;
  /** The agent version nodes of a region run. */
  readonly versionOf: (region: string) => string;
  /** Agents report the proxies they hold (`proxy_ids`) only while the cluster runs proxy_peering. */
  readonly reportsProxyIds: () => boolean;
  readonly now: number;
}

/**
 * Simulated nodes (agents) and the reverse tunnels each keeps to `connectionCount` distinct
 * proxies, as with proxy peering's agent_connection_count. Tunnels to a proxy that went down
 * move to another proxy after a backoff, preferring the node's own region; no rebalancing
 * happens when a proxy comes back, which is how regions end up with missing tunnels. A node
 * can be pinned to chosen proxies (a test's or a demo's fixed topology).
 */
export class NodeTunnels {
  private readonly nodes: SimNode[] = [];
  private readonly endpoints: readonly TunnelEndpoint[];
  private readonly byRegion = new Map<string, TunnelEndpoint[]>();
  private readonly nodesPerRegion = new Map<string, number>();
  private readonly rng: Prng;
  private readonly connectionCount: number;
  private readonly reportsProxyIds: () => boolean;
  private lastReconcileAt: number;

  constructor(opts: NodeTunnelsOptions) {
    this.endpoints = opts.endpoints;
    this.rng = opts.rng;
    this.connectionCount = opts.connectionCount;
    this.reportsProxyIds = opts.reportsProxyIds;
    this.lastReconcileAt = opts.now;
    for (const e of opts.endpoints) {
      const list = this.byRegion.get(e.region);
      if (list) list.push(e);
      else this.byRegion.set(e.region, [e]);
    }
    const regions = [...this.byRegion.keys()];
    const total = opts.nodes ?? regions.length * opts.perRegion;
    for (let i = 0; i < total && regions.length; i++) {
      const region = regions[i % regions.length] as string;
      const k = (this.nodesPerRegion.get(region) ?? 0) + 1;
      this.nodesPerRegion.set(region, k);
      this.nodes.push({
        id: uuidFromName(`teleport.node.${opts.seed}`, String(i)),
        hostname: `node-${region}-${String(k).padStart(3, '0')}`,
        region,
        version: opts.versionOf(region),
        tunnels: this.freshTunnels(opts.now),
        pinned: undefined,
        lastSeenAt: opts.now,
      });
    }
  }

  /** Brings tunnels up to date at sim time `now`: drops, blips and reconnects; then recounts. */
  reconcile(now: number): void {
    const dt = Math.max(0, now - this.lastReconcileAt);
    this.lastReconcileAt = now;
    const flapChance = dt > 0 ? 1 - Math.exp(-dt / FLAP_MEAN_MS) : 0;
    for (const node of this.nodes) {
      if (node.pinned) {
        this.holdPinned(node, now);
        continue;
      }
      for (const t of node.tunnels) {
        if (t.proxy) {
          const since = t.proxy.downSince();
          if (since !== undefined) this.drop(t, since);
          else if (flapChance > 0 && this.rng.chance(flapChance)) this.drop(t, now - this.rng.next() * dt);
        }
        this.connect(node, t, now);
      }
      this.markSeen(node, now);
    }
    this.recount(now);
  }

  /** Every node, found by id or hostname. */
  find(idOrHostname: string): NodeState | undefined {
    const n = this.node(idOrHostname);
    return n && this.state(n);
  }

  list(): NodeState[] {
    return this.nodes.map((n) => this.state(n));
  }

  /**
   * Holds the node's tunnels to exactly `proxies` from now on, whenever they are up: no blips,
   * no discovery. An empty list leaves it with no tunnel at all.
   */
  pin(idOrHostname: string, proxies: readonly TunnelEndpoint[], now: number): NodeState | undefined {
    const n = this.node(idOrHostname);
    if (!n) return undefined;
    n.pinned = [...proxies];
    n.tunnels = proxies.map(() => ({ proxy: undefined, previous: undefined, retryAt: now }));
    this.holdPinned(n, now);
    this.recount(now);
    return this.state(n);
  }

  /**
   * The agent behaves normally again. For a predictable test, its tunnels go at once to
   * proxies of its own region that take tunnels; any left over go through discovery.
   */
  unpin(idOrHostname: string, now: number): NodeState | undefined {
    const n = this.node(idOrHostname);
    if (!n) return undefined;
    n.pinned = undefined;
    n.tunnels = this.freshTunnels(now);
    const local = (this.byRegion.get(n.region) ?? []).filter((e) => e.acceptsTunnels());
    for (const t of n.tunnels) {
      const e = local.splice(this.rng.int(local.length), 1)[0];
      if (e) t.proxy = e;
      else this.connect(n, t, now);
    }
    this.markSeen(n, now);
    this.recount(now);
    return this.state(n);
  }

  /** `tctl get nodes`: nodes whose heartbeat has not expired; `proxy_ids` only under proxy_peering. */
  inventory(now: number): TctlNode[] {
    const report = this.reportsProxyIds();
    const out: TctlNode[] = [];
    for (const n of this.nodes) {
      const expiresAt = this.expiresAt(n, now);
      if (expiresAt <= now) continue;
      out.push(tctlNode({ id: n.id, hostname: n.hostname, region: n.region, version: n.version, proxyIds: report ? this.heldIds(n) : [], expiresAt }));
    }
    return out;
  }

  private heldIds(n: SimNode): string[] {
    return n.tunnels.flatMap((t) => (t.proxy ? [t.proxy.hostId] : []));
  }

  private expiresAt(n: SimNode, now: number): number {
    return (n.tunnels.some((t) => t.proxy) ? now : n.lastSeenAt) + HEARTBEAT_TTL_MS;
  }

  private node(idOrHostname: string): SimNode | undefined {
    return this.nodes.find((x) => x.id === idOrHostname || x.hostname === idOrHostname);
  }

  private state(n: SimNode): NodeState {
    return { id: n.id, hostname: n.hostname, region: n.region, pinned: n.pinned !== undefined, holders: n.tunnels.flatMap((t) => (t.proxy ? [t.proxy] : [])) };
  }

  private freshTunnels(now: number): Tunnel[] {
    return Array.from({ length: this.connectionCount }, () => ({ proxy: undefined, previous: undefined, retryAt: now }));
  }

  private markSeen(node: SimNode, now: number): void {
    if (node.tunnels.some((t) => t.proxy)) node.lastSeenAt = now;
  }

  /** An unconnected tunnel whose backoff is over goes where discovery sends it. */
  private connect(node: SimNode, t: Tunnel, now: number): void {
    if (t.proxy || t.retryAt > now) return;
    const target = this.choose(node, t.previous);
    if (target) t.proxy = target;
    else t.retryAt = now + RECONNECT_MAX_MS;
  }

  /** A pinned node's tunnel i is to pinned proxy i exactly while that proxy is up. */
  private holdPinned(node: SimNode, now: number): void {
    const pinned = node.pinned ?? [];
    node.tunnels.forEach((t, i) => {
      const e = pinned[i];
      if (!e) return;
      if (t.proxy && e.downSince() !== undefined) t.proxy = undefined;
      else if (!t.proxy && e.acceptsTunnels()) t.proxy = e;
    });
    this.markSeen(node, now);
  }

  private drop(t: Tunnel, at: number): void {
    t.previous = t.proxy;
    t.proxy = undefined;
    t.retryAt = at + this.rng.between(RECONNECT_MIN_MS, RECONNECT_MAX_MS);
  }

  private holds(node: SimNode, e: TunnelEndpoint): boolean {
    return node.tunnels.some((t) => t.proxy === e);
  }

  private usable(node: SimNode, e: TunnelEndpoint): boolean {
    return e.acceptsTunnels() && !this.holds(node, e);
  }

  private choose(node: SimNode, previous: TunnelEndpoint | undefined): TunnelEndpoint | undefined {
    if (previous && this.usable(node, previous) && this.rng.chance(RETURN_AFTER_BLIP)) return previous;
    const local = (this.byRegion.get(node.region) ?? []).filter((e) => this.usable(node, e));
    if (local.length && !this.rng.chance(REMOTE_DISCOVERY)) return this.rng.pick(local);
    return this.chooseRemote(node) ?? this.rng.pick(local);
  }

  private chooseRemote(node: SimNode): TunnelEndpoint | undefined {
    const ok = (e: TunnelEndpoint | undefined): e is TunnelEndpoint => !!e && e.region !== node.region && this.usable(node, e);
    for (let i = 0; i < REMOTE_PICK_TRIES; i++) {
      const e = this.rng.pick(this.endpoints);
      if (ok(e)) return e;
    }
    return this.rng.pick(this.endpoints.filter(ok));
  }

  /**
   * Per proxy: node tunnels held, and `proxy_missing_ssh_tunnels` as Teleport's localSite
   * counts it: the tunnelled nodes of the inventory without a tunnel to this proxy, except, on a
   * proxy with a peer client, nodes whose `proxy_ids` name other proxies only (those are not
   * expected here).
   */
  private recount(now: number): void {
    const report = this.reportsProxyIds();
    const counts = new Map<TunnelEndpoint, { held: number; missing: number }>();
    for (const e of this.endpoints) counts.set(e, { held: 0, missing: 0 });
    for (const n of this.nodes) {
      if (this.expiresAt(n, now) <= now) continue;
      const ids = report ? this.heldIds(n) : [];
      for (const [e, c] of counts) {
        if (this.holds(n, e)) c.held++;
        else if (!(e.peerClient && ids.length > 0 && !ids.includes(e.hostId))) c.missing++;
      }
    }
    for (const [e, c] of counts) e.setTunnelCounts(c.held, c.missing);
  }
}
