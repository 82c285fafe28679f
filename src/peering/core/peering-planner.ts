import { linkId, type LinkKey, type PeerNode, type PeerProxy } from './peering-input.js';
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
  private readonly distance: (region: string, proxy: number) => number;
  private nodes: PeerNode[] = [];
  /** Built at the first incremental update: a full plan alone does not need it. */
  private nodeIndex: Map<string, number> | undefined;
  private groups: TunnelGroup[] = [];
  private byKey = new Map<GroupKey, TunnelGroup>();
  private groupIndex = new Map<TunnelGroup, number>();
  private groupOf: (TunnelGroup | undefined)[] = [];
  private links = new Map<string, MutableLink>();
  private reach = new Map<string, Int32Array>();
  private incoming: Int32Array;
  private sourceRegions: readonly string[] = [];
  private removed: PeeringPlan['removed'] = [];

  constructor(private readonly s: PlannerSettings) {
    this.proxyIndex = new Map(s.proxies.map((p, i) => [p.name, i]));
    this.distance = distanceTable(s);
    this.incoming = new Int32Array(s.proxies.length);
  }

  /** A full plan over the whole inventory; the state incremental updates start from. */
  plan(nodes: readonly PeerNode[], current: readonly CurrentLink[], now: number): PeeringPlan {
    this.nodes = [...nodes];
    this.nodeIndex = undefined;
    const grouped = groupNodes(nodes, this.proxyIndex);
    this.groups = grouped.groups;
    this.byKey = grouped.byKey;
    this.groupOf = grouped.groupOf;
    this.groupIndex = new Map(this.groups.map((g, i) => [g, i]));
    const plan = planLinks({ ...this.s, groups: this.groups, current, now });
    this.links = new Map(plan.links.map((l) => [linkId(l), { ...l, unneededSince: l.unneededSince }]));
    this.reach = new Map([...plan.reach].map(([region, r]) => [region, r.slice()]));
    this.sourceRegions = plan.sourceRegions;
    this.removed = plan.removed;
    this.incoming.fill(0);
    for (const l of plan.links) this.bump(l.to, 1);
    return plan;
  }

  /** One node appeared or its tunnels changed. */
  updateNode(node: PeerNode, now: number): NodeChange {
    const added: LinkKey[] = [];
    const unneeded: LinkKey[] = [];
    this.nodeIndex ??= new Map(this.nodes.map((n, j) => [n.id, j]));
    let i = this.nodeIndex.get(node.id);
    if (i === undefined) {
      i = this.nodes.length;
      this.nodeIndex.set(node.id, i);
      this.nodes.push(node);
      this.groupOf.push(undefined);
    } else this.nodes[i] = node;
    const before = this.groupOf[i];
    const holders = node.proxies ? holdersOf(node.proxies, this.proxyIndex) : [];
    const key = holders.length ? holderKey(holders) : undefined;
    if (before?.key === key) return { added, unneeded };
    if (before) this.leave(before, i, now, unneeded);
    if (key === undefined) {
      this.groupOf[i] = undefined;
      return { added, unneeded };
    }
    let g = this.byKey.get(key);
    if (!g) {
      g = { key, holders, nodes: [] };
      this.byKey.set(key, g);
      this.groupIndex.set(g, this.groups.length);
      this.groups.push(g);
      this.growReach();
    }
    g.nodes.push(i);
    this.groupOf[i] = g;
    this.join(g, added);
    return { added, unneeded };
  }

  /** The plan as it stands now. */
  current(): PeeringPlan {
    const links: PlannedLink[] = [...this.links.values()]
      .map((l) => ({ from: l.from, to: l.to, nodes: l.nodes, needed: l.unneededSince === undefined, added: l.added, ...(l.unneededSince === undefined ? {} : { unneededSince: l.unneededSince }) }))
      .sort((a, b) => (a.from === b.from ? (a.to < b.to ? -1 : 1) : a.from < b.from ? -1 : 1));
    return { links, removed: this.removed, sourceRegions: this.sourceRegions, reach: this.reach };
  }

  get tunnelGroups(): readonly TunnelGroup[] {
    return this.groups;
  }

  get nodeList(): readonly PeerNode[] {
    return this.nodes;
  }

  private leave(g: TunnelGroup, node: number, now: number, unneeded: LinkKey[]): void {
    const at = g.nodes.indexOf(node);
    if (at >= 0) g.nodes.splice(at, 1);
    const gi = this.groupIndex.get(g) as number;
    for (const [region, r] of this.reach) {
      const t = r[gi] ?? NOT_NEEDED;
      if (t < 0) continue;
      const l = this.links.get(linkId({ from: region, to: (this.s.proxies[t] as PeerProxy).name }));
      if (!l) continue;
      l.nodes--;
      if (l.nodes <= 0 && l.unneededSince === undefined) {
        l.unneededSince = now;
        unneeded.push({ from: l.from, to: l.to });
      }
    }
  }

  private join(g: TunnelGroup, added: LinkKey[]): void {
    const gi = this.groupIndex.get(g) as number;
    for (const region of this.sourceRegions) {
      const r = this.reach.get(region) as Int32Array;
      let t = r[gi] ?? AT_CAP;
      if (t === AT_CAP || t === NO_TARGET) t = r[gi] = this.resolve(region, g, added);
      if (t < 0) continue;
      const l = this.links.get(linkId({ from: region, to: (this.s.proxies[t] as PeerProxy).name }));
      if (!l) continue;
      l.nodes++;
      l.unneededSince = undefined;
    }
  }

  /** The link from `region` for a group: one already there to a holder, else the best new one under the cap. */
  private resolve(region: string, g: TunnelGroup, added: LinkKey[]): number {
    if (!neededFrom(this.s.proxies, region, g)) return NOT_NEEDED;
    const eligible = g.holders.filter((h) => (this.s.proxies[h] as PeerProxy).eligible);
    if (!eligible.length) return NO_TARGET;
    const rank = (a: number, b: number): number =>
      this.distance(region, a) - this.distance(region, b) || (this.incoming[a] ?? 0) - (this.incoming[b] ?? 0) || ((this.s.proxies[a] as PeerProxy).name < (this.s.proxies[b] as PeerProxy).name ? -1 : 1);
    const have = eligible.filter((h) => this.links.has(linkId({ from: region, to: (this.s.proxies[h] as PeerProxy).name }))).sort(rank);
    if (have.length) return have[0] as number;
    const open = eligible.filter((h) => (this.incoming[h] ?? 0) < this.s.maxLinksPerProxy).sort(rank);
    const best = open[0];
    if (best === undefined) return AT_CAP;
    const to = (this.s.proxies[best] as PeerProxy).name;
    this.links.set(linkId({ from: region, to }), { from: region, to, nodes: 0, unneededSince: undefined, added: true });
    this.bump(to, 1);
    added.push({ from: region, to });
    return best;
  }

  /** Room for the newest group in every region's reach (doubling); a new slot starts unresolved. */
  private growReach(): void {
    for (const [region, r] of this.reach) {
      if (r.length >= this.groups.length) continue;
      const bigger = new Int32Array(Math.max(16, r.length * 2)).fill(AT_CAP);
      bigger.set(r);
      this.reach.set(region, bigger);
    }
  }

  private bump(proxy: string, by: number): void {
    const i = this.proxyIndex.get(proxy);
    if (i !== undefined) this.incoming[i] = (this.incoming[i] ?? 0) + by;
  }
}
