import { compareLinks, linkId, type LinkKey, type PeerNode, type PeerProxy } from './peering-input.js';
import { AT_CAP, distanceTable, neededFrom, NO_TARGET, NOT_NEEDED, planLinks, type CurrentLink, type PeeringPlan, type PlannedLink, type RegionPoint } from './plan-links.js';
import { groupNodes, holderKey, holdersOf, type GroupKey, type TunnelGroup } from './tunnel-groups.js';

export interface PlannerSettings {
  readonly proxies: readonly PeerProxy[];
  readonly regions: readonly RegionPoint[];
  readonly holdMs: number;
  readonly maxLinksPerProxy: number;
}

/** What one node's change did to the links. */
export interface NodeChange {
  readonly added: readonly LinkKey[];
  /** Links whose last node left; their hold time starts now. */
  readonly unneeded: readonly LinkKey[];
}

interface MutableLink {
  readonly from: string;
  readonly to: string;
  nodes: number;
  unneededSince: number | undefined;
  readonly added: boolean;
}

/**
 * The plan kept up to date between full plans: when one node's tunnels change, only the regions
 * and links of its old and new tunnel groups are touched (a few microseconds instead of a full
 * plan). Removals wait for the next full plan, as the hold time makes them wait anyway.
 */
export class PeeringPlanner {
  private readonly proxyIndex: ReadonlyMap<string, number>;
  private readonly distance: (region: string) => Float64Array;
  private nodes: readonly PeerNode[] = [];
  private groups: TunnelGroup[] = [];
  private last: PeeringPlan = { links: [], removed: [], sourceRegions: [], reach: new Map() };
  /** Built at the first incremental update: a full plan alone does not need it. */
  private live: { nodes: PeerNode[]; nodeIndex: Map<string, number>; byKey: Map<GroupKey, TunnelGroup>; groupOf: (TunnelGroup | undefined)[]; links: Map<string, MutableLink>; reach: Map<string, Int32Array> } | undefined;
  private readonly incoming: Int32Array;

  constructor(private readonly s: PlannerSettings) {
    this.proxyIndex = new Map(s.proxies.map((p, i) => [p.name, i]));
    this.distance = distanceTable(s);
    this.incoming = new Int32Array(s.proxies.length);
  }

  /** A full plan over the whole inventory; the state incremental updates start from. */
  plan(nodes: readonly PeerNode[], current: readonly CurrentLink[], now: number): PeeringPlan {
    this.nodes = nodes;
    const grouped = groupNodes(nodes, this.proxyIndex);
    this.groups = grouped.groups;
    this.last = planLinks({ ...this.s, groups: this.groups, current, now });
    this.live = undefined;
    return this.last;
  }

  /** The state node-by-node updates work on, copied from the last full plan. */
  private state(): NonNullable<PeeringPlanner['live']> {
    if (this.live) return this.live;
    this.incoming.fill(0);
    for (const l of this.last.links) this.bump(l.to, 1);
    this.live = {
      nodes: [...this.nodes],
      nodeIndex: new Map(this.nodes.map((n, j) => [n.id, j])),
      byKey: new Map(this.groups.map((g) => [g.key, g])),
      groupOf: this.groupIndex(),
      links: new Map(this.last.links.map((l) => [linkId(l), { ...l, unneededSince: l.unneededSince }])),
      reach: new Map([...this.last.reach].map(([region, r]) => [region, r.slice()])),
    };
    return this.live;
  }

  /** Node index → its group, or undefined (Unknown, or no tunnel to a fleet proxy). */
  private groupIndex(): (TunnelGroup | undefined)[] {
    // Pushed, not `new Array(n)`: an array that large starts in slow dictionary mode.
    const of: (TunnelGroup | undefined)[] = [];
    for (let i = 0; i < this.nodes.length; i++) of.push(undefined);
    for (const g of this.groups) for (const i of g.nodes) of[i] = g;
    return of;
  }

  /** One node appeared or its tunnels changed. */
  updateNode(node: PeerNode, now: number): NodeChange {
    const added: LinkKey[] = [];
    const unneeded: LinkKey[] = [];
    const live = this.state();
    let i = live.nodeIndex.get(node.id);
    if (i === undefined) {
      i = live.nodes.length;
      live.nodeIndex.set(node.id, i);
      live.nodes.push(node);
      live.groupOf.push(undefined);
    } else live.nodes[i] = node;
    const before = live.groupOf[i];
    const holders = node.proxies ? holdersOf(node.proxies, this.proxyIndex) : [];
    const key = holders.length ? holderKey(holders) : undefined;
    if (before?.key === key) return { added, unneeded };
    if (before) this.leave(before, i, now, unneeded);
    if (key === undefined) {
      live.groupOf[i] = undefined;
      return { added, unneeded };
    }
    let g = live.byKey.get(key);
    if (!g) {
      g = { index: this.groups.length, key, holders, nodes: [] };
      live.byKey.set(key, g);
      this.groups.push(g);
      this.growReach();
    }
    g.nodes.push(i);
    live.groupOf[i] = g;
    this.join(g, added);
    return { added, unneeded };
  }

  /** The plan as it stands now. */
  current(): PeeringPlan {
    if (!this.live) return this.last;
    const links: PlannedLink[] = [...this.live.links.values()]
      .map((l) => ({ from: l.from, to: l.to, nodes: l.nodes, needed: l.unneededSince === undefined, added: l.added, ...(l.unneededSince === undefined ? {} : { unneededSince: l.unneededSince }) }))
      .sort(compareLinks);
    return { links, removed: this.last.removed, sourceRegions: this.last.sourceRegions, reach: this.live.reach };
  }

  get tunnelGroups(): readonly TunnelGroup[] {
    return this.groups;
  }

  get nodeList(): readonly PeerNode[] {
    return this.live?.nodes ?? this.nodes;
  }

  private leave(g: TunnelGroup, node: number, now: number, unneeded: LinkKey[]): void {
    const at = g.nodes.indexOf(node);
    if (at >= 0) g.nodes.splice(at, 1);
    const gi = g.index;
    for (const [region, r] of this.state().reach) {
      const t = r[gi] ?? NOT_NEEDED;
      if (t < 0) continue;
      const l = this.state().links.get(linkId({ from: region, to: (this.s.proxies[t] as PeerProxy).name }));
      if (!l) continue;
      l.nodes--;
      if (l.nodes <= 0 && l.unneededSince === undefined) {
        l.unneededSince = now;
        unneeded.push({ from: l.from, to: l.to });
      }
    }
  }

  private join(g: TunnelGroup, added: LinkKey[]): void {
    const gi = g.index;
    for (const region of this.last.sourceRegions) {
      const r = this.state().reach.get(region) as Int32Array;
      let t = r[gi] ?? AT_CAP;
      // A group resolved only now brings all its nodes to the link; a resolved one, just this node.
      const fresh = t === AT_CAP || t === NO_TARGET;
      if (fresh) t = r[gi] = this.resolve(region, g, added);
      if (t < 0) continue;
      const l = this.state().links.get(linkId({ from: region, to: (this.s.proxies[t] as PeerProxy).name }));
      if (!l) continue;
      l.nodes += fresh ? g.nodes.length : 1;
      l.unneededSince = undefined;
    }
  }

  /** The link from `region` for a group: one already there to a holder, else the best new one under the cap. */
  private resolve(region: string, g: TunnelGroup, added: LinkKey[]): number {
    if (!neededFrom(this.s.proxies, region, g)) return NOT_NEEDED;
    const eligible = g.holders.filter((h) => (this.s.proxies[h] as PeerProxy).eligible);
    if (!eligible.length) return NO_TARGET;
    const km = this.distance(region);
    const rank = (a: number, b: number): number =>
      (km[a] as number) - (km[b] as number) || (this.incoming[a] ?? 0) - (this.incoming[b] ?? 0) || ((this.s.proxies[a] as PeerProxy).name < (this.s.proxies[b] as PeerProxy).name ? -1 : 1);
    const have = eligible.filter((h) => this.state().links.has(linkId({ from: region, to: (this.s.proxies[h] as PeerProxy).name }))).sort(rank);
    if (have.length) return have[0] as number;
    const open = eligible.filter((h) => (this.incoming[h] ?? 0) < this.s.maxLinksPerProxy).sort(rank);
    const best = open[0];
    if (best === undefined) return AT_CAP;
    const to = (this.s.proxies[best] as PeerProxy).name;
    this.state().links.set(linkId({ from: region, to }), { from: region, to, nodes: 0, unneededSince: undefined, added: true });
    this.bump(to, 1);
    added.push({ from: region, to });
    return best;
  }

  /** Room for the newest group in every region's reach (doubling); a new slot starts unresolved. */
  private growReach(): void {
    const reach = this.state().reach;
    for (const [region, r] of reach) {
      if (r.length >= this.groups.length) continue;
      const bigger = new Int32Array(Math.max(16, r.length * 2)).fill(AT_CAP);
      bigger.set(r);
      reach.set(region, bigger);
    }
  }

  private bump(proxy: string, by: number): void {
    const i = this.proxyIndex.get(proxy);
    if (i !== undefined) this.incoming[i] = (this.incoming[i] ?? 0) + by;
  }
}
