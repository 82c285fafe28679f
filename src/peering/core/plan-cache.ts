import type { PeerLinkStatus } from '../../model/peering.js';
import { proxiesSignature } from './peer-proxies.js';
import type { PeerNode, PeerProxy } from './peering-input.js';
import { PeeringPlanner } from './peering-planner.js';
import type { PeeringPlan, RegionPoint } from './plan-links.js';
import type { TunnelGroup } from './tunnel-groups.js';

/**
 * A read that changed at most this many nodes, and at most 1% of them, is applied node by node to
 * the previous plan; more (the first read after the switch to proxy_peering changes them all) get
 * a full plan, which is what a restarted controller would make from the same read.
 */
const INCREMENTAL_LIMIT = 1_000;
const INCREMENTAL_SHARE = 0.01;
/** Re-plans of a fresh plan at most (two settle every inventory seen so far). */
const FIXED_POINT_ROUNDS = 4;

export interface PlanRequest {
  readonly proxies: readonly PeerProxy[];
  readonly regions: readonly RegionPoint[];
  readonly holdMs: number;
  readonly maxLinksPerProxy: number;
  /** The links in status: a full plan keeps them where it can, and starts their hold times from them. */
  readonly current: readonly PeerLinkStatus[];
  readonly now: number;
}

export interface CachedPlan {
  readonly plan: PeeringPlan;
  readonly groups: readonly TunnelGroup[];
  readonly nodes: readonly PeerNode[];
  /** Made by this call (its removals are news), not reused. */
  readonly fresh: boolean;
}

/**
 * The plan over the last good inventory, reused while nothing it rests on changed and no hold
 * time ran out; a read that changed few nodes moves it node by node. A cache over pure
 * functions: no I/O and no clock (times come in). Lost on a restart: the next plan is a full one
 * from the links in status.
 */
export class PlanCache {
  private nodes: readonly PeerNode[] = [];
  private version = 0;
  private planner: PeeringPlanner | undefined;
  private plan: PeeringPlan | undefined;
  private key: string | undefined;
  private lastRequest: string | undefined;

  /** A good read's nodes. */
  setNodes(nodes: readonly PeerNode[], now: number): void {
    const changed = this.planner ? changedNodes(this.nodes, nodes) : undefined;
    this.nodes = nodes;
    if (changed && !changed.length) return;
    this.version++;
    // The previous plan can be moved node by node when few changed; otherwise plan afresh.
    if (this.planner && this.plan && changed && changed.length <= Math.min(INCREMENTAL_LIMIT, nodes.length * INCREMENTAL_SHARE) && this.lastRequest !== undefined) {
      for (const n of changed) this.planner.updateNode(n, now);
      this.plan = this.planner.current();
      this.key = `${this.version}|${this.lastRequest}`;
    }
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  planFor(r: PlanRequest): CachedPlan {
    const request = `${proxiesSignature(r.proxies)}|${r.holdMs}|${r.maxLinksPerProxy}|${JSON.stringify(r.regions)}`;
    const key = `${this.version}|${request}`;
    const expiring = this.plan?.links.some((l) => l.unneededSince !== undefined && r.now - l.unneededSince >= r.holdMs) ?? false;
    if (this.plan && this.planner && this.key === key && !expiring) return { plan: this.plan, groups: this.planner.tunnelGroups, nodes: this.planner.nodeList, fresh: false };
    const planner = new PeeringPlanner({ proxies: r.proxies, regions: r.regions, holdMs: r.holdMs, maxLinksPerProxy: r.maxLinksPerProxy });
    let plan = planner.plan(this.nodes, r.current.map((l) => ({ from: l.from, to: l.to, ...(l.unneededSince ? { unneededSince: Date.parse(l.unneededSince) } : {}) })), r.now);
    // Planned again from its own links until they stand: links it added can make some it kept
    // unneeded. A plan that stands is what any later full plan (a restart's) makes from the same
    // links, so the links do not depend on when plans are made.
    for (let i = 0; i < FIXED_POINT_ROUNDS; i++) {
      const again = planner.plan(this.nodes, plan.links, r.now);
      if (sameLinks(again, plan)) break;
      plan = { ...again, removed: [...plan.removed, ...again.removed] };
    }
    this.planner = planner;
    this.plan = plan;
    this.key = key;
    this.lastRequest = request;
    return { plan, groups: planner.tunnelGroups, nodes: planner.nodeList, fresh: true };
  }
}

function sameLinks(a: PeeringPlan, b: PeeringPlan): boolean {
  return a.links.length === b.links.length && a.links.every((l, i) => {
    const o = b.links[i];
    return o !== undefined && l.from === o.from && l.to === o.to && l.needed === o.needed && l.unneededSince === o.unneededSince;
  });
}

/** Nodes that are new or whose tunnels changed, and nodes gone (as Unknown). */
function changedNodes(before: readonly PeerNode[], after: readonly PeerNode[]): PeerNode[] {
  const old = new Map(before.map((n) => [n.id, n]));
  const out: PeerNode[] = [];
  for (const n of after) {
    const o = old.get(n.id);
    old.delete(n.id);
    if (!o || o.region !== n.region || o.hostname !== n.hostname || !sameList(o.proxies, n.proxies)) out.push(n);
  }
  for (const gone of old.values()) out.push({ id: gone.id, hostname: gone.hostname });
  return out;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
