import { distanceKm } from '../../redirect/core/geo-distance.js';
import { compareLinks, linkId, type LinkKey, type PeerProxy } from './peering-input.js';
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
  readonly reach: ReadonlyMap<string, Int32Array>;
}

/** The fleet and groups as flat typed arrays: the greedy loop runs millions of steps at fleet scale. */
interface Ctx {
  readonly input: PlanInput;
  readonly P: number;
  readonly G: number;
  readonly eligible: Uint8Array;
  /** Order of each proxy's name, for ties. */
  readonly nameRank: Int32Array;
  /** Holders of group g: hList[hStart[g] .. hStart[g+1]). */
  readonly hStart: Int32Array;
  readonly hList: Int32Array;
  /** Groups held by proxy p: pList[pStart[p] .. pStart[p+1]). */
  readonly pStart: Int32Array;
  readonly pList: Int32Array;
  readonly size: Float64Array;
  readonly dist: Float64Array;
  readonly incoming: Int32Array;
  readonly cnt: Int32Array;
  readonly nodeCnt: Float64Array;
  readonly full: Uint8Array;
  readonly cand: Int32Array;
}

function flatten(input: PlanInput): Ctx {
  const P = input.proxies.length;
  const G = input.groups.length;
  const eligible = new Uint8Array(P);
  input.proxies.forEach((p, i) => (eligible[i] = p.eligible ? 1 : 0));
  const nameRank = new Int32Array(P);
  [...input.proxies.keys()].sort((a, b) => ((input.proxies[a] as PeerProxy).name < (input.proxies[b] as PeerProxy).name ? -1 : 1)).forEach((p, rank) => (nameRank[p] = rank));
  const hStart = new Int32Array(G + 1);
  const size = new Float64Array(G);
  const perProxy = new Int32Array(P + 1);
  input.groups.forEach((g, gi) => {
    hStart[gi + 1] = (hStart[gi] as number) + g.holders.length;
    size[gi] = g.nodes.length;
    for (const h of g.holders) perProxy[h + 1] = (perProxy[h + 1] as number) + 1;
  });
  const hList = new Int32Array(hStart[G] as number);
  const pStart = new Int32Array(P + 1);
  for (let p = 0; p < P; p++) pStart[p + 1] = (pStart[p] as number) + (perProxy[p + 1] as number);
  const pList = new Int32Array(pStart[P] as number);
  const fill = Int32Array.from(pStart);
  input.groups.forEach((g, gi) => {
    let k = hStart[gi] as number;
    for (const h of g.holders) {
      hList[k++] = h;
      pList[(fill[h] as number)++] = gi;
    }
  });
  return { input, P, G, eligible, nameRank, hStart, hList, pStart, pList, size, dist: new Float64Array(P), incoming: new Int32Array(P), cnt: new Int32Array(P), nodeCnt: new Float64Array(P), full: new Uint8Array(P), cand: new Int32Array(P) };
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
 * Greedy set cover of a region's open groups by targets (`allowed`, or every eligible proxy):
 * each pick covers the most groups still open (then most nodes, nearest, least loaded, by
 * name), under the link cap. Greedy is within ln(n) of the fewest links, and the same input
 * always gives the same picks.
 */
function cover(ctx: Ctx, reach: Int32Array, open: Uint8Array, allowed: Uint8Array | undefined, picked: Map<number, number>): void {
  const { P, G, eligible, hStart, hList, pStart, pList, size, cnt, nodeCnt, incoming, dist, nameRank, full, cand } = ctx;
  const cap = ctx.input.maxLinksPerProxy;
  const candidate = (h: number): boolean => eligible[h] === 1 && (allowed === undefined || allowed[h] === 1);
  full.fill(0);
  cnt.fill(0);
  nodeCnt.fill(0);
  for (let g = 0; g < G; g++) {
    if (!open[g]) continue;
    const n = size[g] as number;
    for (let k = hStart[g] as number; k < (hStart[g + 1] as number); k++) {
      const h = hList[k] as number;
      if (!candidate(h)) continue;
      cnt[h] = (cnt[h] as number) + 1;
      nodeCnt[h] = (nodeCnt[h] as number) + n;
    }
  }
  // Proxies that still cover something; the scan drops the others as it goes.
  let live = 0;
  for (let p = 0; p < P; p++) if ((cnt[p] as number) > 0) cand[live++] = p;
  for (;;) {
    let best = -1;
    let kept = 0;
    for (let i = 0; i < live; i++) {
      const p = cand[i] as number;
      const c = cnt[p] as number;
      if (c <= 0 || full[p]) continue;
      cand[kept++] = p;
      if (best < 0) {
        best = p;
        continue;
      }
      const cb = cnt[best] as number;
      if (c !== cb) {
        if (c > cb) best = p;
        continue;
      }
      const na = nodeCnt[p] as number;
      const nb = nodeCnt[best] as number;
      if (na !== nb) {
        if (na > nb) best = p;
        continue;
      }
      const da = dist[p] as number;
      const db = dist[best] as number;
      if (da !== db) {
        if (da < db) best = p;
        continue;
      }
      const ia = incoming[p] as number;
      const ib = incoming[best] as number;
      if (ia !== ib ? ia < ib : (nameRank[p] as number) < (nameRank[best] as number)) best = p;
    }
    live = kept;
    if (best < 0) return;
    if ((incoming[best] as number) >= cap) {
      full[best] = 1;
      continue;
    }
    incoming[best] = (incoming[best] as number) + 1;
    let nodes = 0;
    for (let k = pStart[best] as number; k < (pStart[best + 1] as number); k++) {
      const g = pList[k] as number;
      if (!open[g]) continue;
      open[g] = 0;
      reach[g] = best;
      const n = size[g] as number;
      nodes += n;
      for (let j = hStart[g] as number; j < (hStart[g + 1] as number); j++) {
        const h = hList[j] as number;
        if (!candidate(h)) continue;
        cnt[h] = (cnt[h] as number) - 1;
        nodeCnt[h] = (nodeCnt[h] as number) - n;
      }
    }
    picked.set(best, nodes);
  }
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
  const ctx = flatten(input);
  const { P, G, hStart, hList } = ctx;
  const proxyIndex = new Map(input.proxies.map((p, i) => [p.name, i]));
  const distance = distanceTable(input);
  const sourceRegions = [...new Set(input.proxies.filter((p) => p.eligible).map((p) => p.region))].sort();

  // Live groups, and per region the groups with a live tunnel there (reached without a link).
  const live = new Uint8Array(G);
  const hasEligible = new Uint8Array(G);
  const localGroups = new Map<string, number[]>(sourceRegions.map((r) => [r, []]));
  for (let g = 0; g < G; g++) {
    for (let k = hStart[g] as number; k < (hStart[g + 1] as number); k++) {
      const p = input.proxies[hList[k] as number] as PeerProxy;
      if (p.eligible) hasEligible[g] = 1;
      if (!p.up) continue;
      live[g] = 1;
      const mine = localGroups.get(p.region);
      // Once per region, though two of its proxies may hold the tunnel.
      if (mine && mine[mine.length - 1] !== g) mine.push(g);
    }
  }
  const reach = new Map<string, Int32Array>();
  const open = new Map<string, Uint8Array>();
  for (const region of sourceRegions) {
    const o = live.slice();
    for (const g of localGroups.get(region) ?? []) o[g] = 0;
    reach.set(region, new Int32Array(G).fill(NOT_NEEDED));
    open.set(region, o);
  }
  const at = (region: string): void => {
    for (let p = 0; p < P; p++) ctx.dist[p] = distance(region, p);
  };

  // Phase 1, every region before any new link: the links in place keep their claim on the cap.
  const current = [...new Map(input.current.map((l) => [linkId(l), l])).values()];
  const existing = new Map<string, Uint8Array>();
  for (const l of current) {
    const to = proxyIndex.get(l.to);
    if (to === undefined) continue;
    const mask = existing.get(l.from) ?? new Uint8Array(P);
    mask[to] = 1;
    existing.set(l.from, mask);
  }
  const picks = new Map<string, Map<number, number>>();
  for (const region of sourceRegions) {
    const mine = existing.get(region);
    const picked = new Map<number, number>();
    if (mine) {
      at(region);
      cover(ctx, reach.get(region) as Int32Array, open.get(region) as Uint8Array, mine, picked);
    }
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
    ctx.incoming[to] = (ctx.incoming[to] as number) + 1;
    links.push({ from: l.from, to: l.to, nodes: 0, needed: false, unneededSince: since, added: false });
  }

  // Phase 2: new links for what is still open.
  for (const region of sourceRegions) {
    const picked = new Map<number, number>();
    const r = reach.get(region) as Int32Array;
    const o = open.get(region) as Uint8Array;
    at(region);
    cover(ctx, r, o, undefined, picked);
    for (const [to, nodes] of picked) links.push({ from: region, to: (input.proxies[to] as PeerProxy).name, nodes, needed: true, added: true });
    for (let g = 0; g < G; g++) if (o[g]) r[g] = hasEligible[g] ? AT_CAP : NO_TARGET;
  }
  links.sort(compareLinks);
  return { links, removed, sourceRegions, reach };
}
