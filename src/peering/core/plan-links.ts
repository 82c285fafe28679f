import { distanceKm } from '../../redirect/core/geo-distance.js';
import { linkId, type LinkKey, type PeerProxy } from './peering-input.js';
import type { TunnelGroup } from './tunnel-groups.js';

export interface RegionPoint {
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
}

/** A link as it stands before this plan; `unneededSince` (ms) carries the hysteresis. */
export interface CurrentLink extends LinkKey {
  readonly unneededSince?: number;
}

export interface PlanInput {
  readonly proxies: readonly PeerProxy[];
  readonly regions: readonly RegionPoint[];
  /** Holders index into `proxies`. */
  readonly groups: readonly TunnelGroup[];
  readonly current: readonly CurrentLink[];
  readonly now: number;
  readonly holdMs: number;
  /** Links ending at one proxy (the regions that may peer into it). */
  readonly maxLinksPerProxy: number;
}

export interface PlannedLink extends LinkKey {
  /** Nodes reachable from `from` only through this link. */
  readonly nodes: number;
  readonly needed: boolean;
  readonly unneededSince?: number;
  /** Not in the current set: this plan adds it. */
  readonly added: boolean;
}

/** How a group is reached from a region: -1 not needed (direct or no live tunnel), >= 0 the target proxy. */
export const NOT_NEEDED = -1;
/** Every proxy holding the tunnel is at the link cap. */
export const AT_CAP = -2;
/** The tunnels are only on draining or unready proxies: no link target. */
export const NO_TARGET = -3;

export interface PeeringPlan {
  /** Every link after this plan (kept, added, held), by from then to. */
  readonly links: readonly PlannedLink[];
  readonly removed: readonly (LinkKey & { readonly reason: string })[];
  /** Regions users are served from (an eligible proxy), in order. */
  readonly sourceRegions: readonly string[];
  /** Per source region, per group index: NOT_NEEDED, AT_CAP, NO_TARGET or the target proxy index. */
  readonly reach: ReadonlyMap<string, number[]>;
}

interface Ctx {
  readonly input: PlanInput;
  readonly proxyIndex: ReadonlyMap<string, number>;
  readonly groupsOfProxy: readonly number[][];
  readonly distance: (region: string, proxy: number) => number;
  readonly incoming: Int32Array;
  readonly cnt: Int32Array;
  readonly nodeCnt: Float64Array;
}

/** Whether a group must be reached from `region` by a link: live, and no live tunnel in the region. */
export function neededFrom(proxies: readonly PeerProxy[], region: string, g: TunnelGroup): boolean {
  let live = false;
  for (const h of g.holders) {
    const p = proxies[h] as PeerProxy;
    if (!p.up) continue;
    if (p.region === region) return false;
    live = true;
  }
  return live;
}

/**
 * Greedy set cover of `reach`'s unresolved groups by targets in `allowed`: each pick covers the
 * most groups still open (then most nodes, nearest, least loaded, by name), under the link cap.
 * Greedy is within ln(n) of the fewest links, and the same input always gives the same picks.
 */
function cover(ctx: Ctx, region: string, reach: number[], open: Uint8Array, allowed: (proxy: number) => boolean, picked: Map<number, number>): void {
  const { input, cnt, nodeCnt, incoming } = ctx;
  cnt.fill(0);
  nodeCnt.fill(0);
  const candidate = (h: number): boolean => allowed(h) && (input.proxies[h] as PeerProxy).eligible;
  input.groups.forEach((g, gi) => {
    if (!open[gi]) return;
    for (const h of g.holders) if (candidate(h)) {
      cnt[h] = (cnt[h] ?? 0) + 1;
      nodeCnt[h] = (nodeCnt[h] ?? 0) + g.nodes.length;
    }
  });
  const full = new Set<number>();
  for (;;) {
    let best = -1;
    for (let p = 0; p < input.proxies.length; p++) {
      if ((cnt[p] ?? 0) <= 0 || full.has(p)) continue;
      if (best < 0 || better(ctx, region, p, best)) best = p;
    }
    if (best < 0) return;
    if ((incoming[best] ?? 0) >= input.maxLinksPerProxy) {
      full.add(best);
      continue;
    }
    incoming[best] = (incoming[best] ?? 0) + 1;
    let nodes = 0;
    for (const gi of ctx.groupsOfProxy[best] ?? []) {
      if (!open[gi]) continue;
      open[gi] = 0;
      reach[gi] = best;
      const g = input.groups[gi] as TunnelGroup;
      nodes += g.nodes.length;
      for (const h of g.holders) if (candidate(h)) {
        cnt[h] = (cnt[h] ?? 0) - 1;
        nodeCnt[h] = (nodeCnt[h] ?? 0) - g.nodes.length;
      }
    }
    picked.set(best, nodes);
  }
}

function better(ctx: Ctx, region: string, a: number, b: number): boolean {
  const { cnt, nodeCnt, incoming, input } = ctx;
  if (cnt[a] !== cnt[b]) return (cnt[a] ?? 0) > (cnt[b] ?? 0);
  if (nodeCnt[a] !== nodeCnt[b]) return (nodeCnt[a] ?? 0) > (nodeCnt[b] ?? 0);
  const da = ctx.distance(region, a);
  const db = ctx.distance(region, b);
  if (da !== db) return da < db;
  if (incoming[a] !== incoming[b]) return (incoming[a] ?? 0) < (incoming[b] ?? 0);
  return (input.proxies[a] as PeerProxy).name < (input.proxies[b] as PeerProxy).name;
}

export function distanceTable(input: Pick<PlanInput, 'proxies' | 'regions'>): (region: string, proxy: number) => number {
  const points = new Map(input.regions.map((r) => [r.name, r]));
  const memo = new Map<string, number>();
  return (region, proxy) => {
    const to = (input.proxies[proxy] as PeerProxy).region;
    const k = `${region}|${to}`;
    let d = memo.get(k);
    if (d === undefined) {
      const a = points.get(region);
      const b = points.get(to);
      d = a && b ? distanceKm(a, b) : Number.MAX_SAFE_INTEGER;
      memo.set(k, d);
    }
    return d;
  };
}

/**
 * The fewest region-to-proxy links that make every node with a live tunnel reachable from every
 * region users are served from. Links already in place are chosen first, so a small change in
 * the tunnels gives a small change in the links; a link no longer needed stays until it has
 * been unneeded for `holdMs`, so flapping tunnels do not flap the firewall. Pure.
 */
export function planLinks(input: PlanInput): PeeringPlan {
  const P = input.proxies.length;
  const proxyIndex = new Map(input.proxies.map((p, i) => [p.name, i]));
  const groupsOfProxy: number[][] = Array.from({ length: P }, () => []);
  input.groups.forEach((g, gi) => {
    for (const h of g.holders) groupsOfProxy[h]?.push(gi);
  });
  const ctx: Ctx = { input, proxyIndex, groupsOfProxy, distance: distanceTable(input), incoming: new Int32Array(P), cnt: new Int32Array(P), nodeCnt: new Float64Array(P) };
  const sourceRegions = [...new Set(input.proxies.filter((p) => p.eligible).map((p) => p.region))].sort();

  const reach = new Map<string, number[]>();
  const open = new Map<string, Uint8Array>();
  for (const region of sourceRegions) {
    const r = new Array<number>(input.groups.length).fill(NOT_NEEDED);
    const o = new Uint8Array(input.groups.length);
    input.groups.forEach((g, gi) => {
      if (neededFrom(input.proxies, region, g)) o[gi] = 1;
    });
    reach.set(region, r);
    open.set(region, o);
  }

  // Phase 1, every region before any new link: the links in place keep their claim on the cap.
  const current = [...new Map(input.current.map((l) => [linkId(l), l])).values()];
  const existing = new Map<string, Set<number>>();
  for (const l of current) {
    const to = proxyIndex.get(l.to);
    if (to === undefined) continue;
    const set = existing.get(l.from) ?? new Set<number>();
    set.add(to);
    existing.set(l.from, set);
  }
  const picks = new Map<string, Map<number, number>>();
  for (const region of sourceRegions) {
    const mine = existing.get(region);
    const picked = new Map<number, number>();
    if (mine) cover(ctx, region, reach.get(region) as number[], open.get(region) as Uint8Array, (p) => mine.has(p), picked);
    picks.set(region, picked);
  }

  // Links no longer needed are held for the hold time; they still count against the cap meanwhile.
  const links: PlannedLink[] = [];
  const removed: (LinkKey & { reason: string })[] = [];
  for (const l of current) {
    const to = proxyIndex.get(l.to);
    if (to === undefined) {
      removed.push({ from: l.from, to: l.to, reason: `proxy ${l.to} is no longer in the fleet` });
      continue;
    }
    const nodes = picks.get(l.from)?.get(to);
    if (nodes !== undefined) {
      links.push({ from: l.from, to: l.to, nodes, needed: true, added: false });
      continue;
    }
    const since = l.unneededSince ?? input.now;
    if (input.now - since >= input.holdMs) {
      removed.push({ from: l.from, to: l.to, reason: `unneeded since ${new Date(since).toISOString()}, past the hold time` });
      continue;
    }
    ctx.incoming[to] = (ctx.incoming[to] ?? 0) + 1;
    links.push({ from: l.from, to: l.to, nodes: 0, needed: false, unneededSince: since, added: false });
  }

  // Phase 2: new links for what is still open.
  for (const region of sourceRegions) {
    const picked = new Map<number, number>();
    const r = reach.get(region) as number[];
    const o = open.get(region) as Uint8Array;
    cover(ctx, region, r, o, () => true, picked);
    for (const [to, nodes] of picked) links.push({ from: region, to: (input.proxies[to] as PeerProxy).name, nodes, needed: true, added: true });
    input.groups.forEach((g, gi) => {
      if (!o[gi]) return;
      r[gi] = g.holders.some((h) => (input.proxies[h] as PeerProxy).eligible) ? AT_CAP : NO_TARGET;
    });
  }
  links.sort((a, b) => (a.from === b.from ? (a.to < b.to ? -1 : a.to > b.to ? 1 : 0) : a.from < b.from ? -1 : 1));
  return { links, removed, sourceRegions, reach };
}

/** The link set as keys, for diffing plans. */
export function linkKeys(links: readonly LinkKey[]): Set<string> {
  return new Set(links.map(linkId));
}
