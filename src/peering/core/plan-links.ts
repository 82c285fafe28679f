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
/** The tunnels are only on proxies out of rotation or unready: no link target. */
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
  /** Order of each proxy's name, for ties. */
  readonly nameRank: Int32Array;
  /** Eligible holders of group g (the only link targets): hList[hStart[g] .. hStart[g+1]). */
  readonly hStart: Int32Array;
  readonly hList: Int32Array;
  /** Groups an eligible proxy p holds: pList[pStart[p] .. pStart[p+1]), with their other eligible holder (NONE, MANY). */
  readonly pStart: Int32Array;
  readonly pList: Int32Array;
  readonly pOther: Int32Array;
  readonly size: Int32Array;
  /** A live tunnel (some holder up), and a holder that may be a link target. */
  readonly live: Uint8Array;
  readonly hasEligible: Uint8Array;
  /** Per eligible proxy, the live groups it holds and their nodes: a region's counts are these less its closed groups. */
  readonly liveCnt: Int32Array;
  readonly liveNodes: Int32Array;
  readonly incoming: Int32Array;
  readonly cnt: Int32Array;
  readonly nodeCnt: Int32Array;
  readonly full: Uint8Array;
  readonly cand: Int32Array;
  /** What the last cover picked, in order: target proxy and the nodes it serves. */
  readonly pickTo: Int32Array;
  readonly pickNodes: Int32Array;
}

/** pOther: the group has no other eligible holder, or more than one (then see hList). */
const NONE = -1;
const MANY = -2;

function flatten(input: PlanInput): Ctx {
  const { proxies, groups } = input;
  const P = proxies.length;
  const G = groups.length;
  const eligible = new Uint8Array(P);
  const up = new Uint8Array(P);
  for (let p = 0; p < P; p++) {
    const x = proxies[p] as PeerProxy;
    eligible[p] = x.eligible ? 1 : 0;
    up[p] = x.up ? 1 : 0;
  }
  const nameRank = new Int32Array(P);
  [...proxies.keys()].sort((a, b) => ((proxies[a] as PeerProxy).name < (proxies[b] as PeerProxy).name ? -1 : 1)).forEach((p, rank) => (nameRank[p] = rank));
  const hStart = new Int32Array(G + 1);
  const size = new Int32Array(G);
  const live = new Uint8Array(G);
  const hasEligible = new Uint8Array(G);
  const perProxy = new Int32Array(P + 1);
  for (let g = 0; g < G; g++) {
    const { holders, nodes } = groups[g] as TunnelGroup;
    let k = hStart[g] as number;
    for (const h of holders) {
      if (up[h]) live[g] = 1;
      if (!eligible[h]) continue;
      k++;
      perProxy[h + 1] = (perProxy[h + 1] as number) + 1;
    }
    hStart[g + 1] = k;
    hasEligible[g] = k > (hStart[g] as number) ? 1 : 0;
    size[g] = nodes.length;
  }
  const hList = new Int32Array(hStart[G] as number);
  const pStart = new Int32Array(P + 1);
  for (let p = 0; p < P; p++) pStart[p + 1] = (pStart[p] as number) + (perProxy[p + 1] as number);
  const pList = new Int32Array(pStart[P] as number);
  const pOther = new Int32Array(pStart[P] as number);
  const fill = Int32Array.from(pStart);
  const liveCnt = new Int32Array(P);
  const liveNodes = new Int32Array(P);
  for (let g = 0; g < G; g++) {
    const from = hStart[g] as number;
    let k = from;
    for (const h of (groups[g] as TunnelGroup).holders) {
      if (!eligible[h]) continue;
      hList[k++] = h;
      if (!live[g]) continue;
      liveCnt[h] = (liveCnt[h] as number) + 1;
      liveNodes[h] = (liveNodes[h] as number) + (size[g] as number);
    }
    const n = k - from;
    for (let j = from; j < k; j++) {
      const h = hList[j] as number;
      const at = (fill[h] as number)++;
      pList[at] = g;
      pOther[at] = n === 1 ? NONE : n === 2 ? (hList[from + (j === from ? 1 : 0)] as number) : MANY;
    }
  }
  const p32 = (): Int32Array => new Int32Array(P);
  return { input, P, G, nameRank, hStart, hList, pStart, pList, pOther, size, live, hasEligible, liveCnt, liveNodes, incoming: p32(), cnt: p32(), nodeCnt: p32(), full: new Uint8Array(P), cand: p32(), pickTo: p32(), pickNodes: p32() };
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
 * always gives the same picks. The picks are left in ctx.pickTo/pickNodes; returns how many.
 */
function cover(ctx: Ctx, dist: Float64Array, reach: Int32Array, open: Uint8Array, allowed: Uint8Array | undefined): number {
  const { P, G, hStart, hList, pStart, pList, pOther, size, live, cnt, nodeCnt, incoming, nameRank, full, cand, pickTo, pickNodes } = ctx;
  const cap = ctx.input.maxLinksPerProxy;
  full.fill(0);
  if (allowed === undefined) {
    // Most live groups are open in every region: take the closed ones off the live totals.
    cnt.set(ctx.liveCnt);
    nodeCnt.set(ctx.liveNodes);
    for (let g = 0; g < G; g++) {
      if (open[g] || !live[g]) continue;
      const n = size[g] as number;
      for (let k = hStart[g] as number; k < (hStart[g + 1] as number); k++) {
        const h = hList[k] as number;
        cnt[h] = (cnt[h] as number) - 1;
        nodeCnt[h] = (nodeCnt[h] as number) - n;
      }
    }
  } else {
    cnt.fill(0);
    nodeCnt.fill(0);
    for (let g = 0; g < G; g++) {
      if (!open[g]) continue;
      const n = size[g] as number;
      for (let k = hStart[g] as number; k < (hStart[g + 1] as number); k++) {
        const h = hList[k] as number;
        if (!allowed[h]) continue;
        cnt[h] = (cnt[h] as number) + 1;
        nodeCnt[h] = (nodeCnt[h] as number) + n;
      }
    }
  }
  // Proxies that still cover something; the scan drops the others as it goes. A proxy not
  // allowed never enters, so the closing loop below may count it down below zero unharmed.
  let left = 0;
  for (let p = 0; p < P; p++) if ((cnt[p] as number) > 0) cand[left++] = p;
  let picks = 0;
  for (;;) {
    let best = -1;
    let kept = 0;
    for (let i = 0; i < left; i++) {
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
    left = kept;
    if (best < 0) return picks;
    if ((incoming[best] as number) >= cap) {
      full[best] = 1;
      continue;
    }
    incoming[best] = (incoming[best] as number) + 1;
    // Close its open groups; their other holders cover that much less. It covers nothing now.
    let nodes = 0;
    for (let k = pStart[best] as number; k < (pStart[best + 1] as number); k++) {
      const g = pList[k] as number;
      if (!open[g]) continue;
      open[g] = 0;
      reach[g] = best;
      const n = size[g] as number;
      nodes += n;
      const other = pOther[k] as number;
      if (other >= 0) {
        cnt[other] = (cnt[other] as number) - 1;
        nodeCnt[other] = (nodeCnt[other] as number) - n;
      } else if (other === MANY) {
        for (let j = hStart[g] as number; j < (hStart[g + 1] as number); j++) {
          const h = hList[j] as number;
          cnt[h] = (cnt[h] as number) - 1;
          nodeCnt[h] = (nodeCnt[h] as number) - n;
        }
      }
    }
    cnt[best] = 0;
    pickTo[picks] = best;
    pickNodes[picks++] = nodes;
  }
}

/** Per region, the distance (km) to each proxy's region, unknown points farthest: one row per region, made once. */
export function distanceTable(input: Pick<PlanInput, 'proxies' | 'regions'>): (region: string) => Float64Array {
  const points = new Map(input.regions.map((r) => [r.name, r]));
  const rows = new Map<string, Float64Array>();
  return (region) => {
    let row = rows.get(region);
    if (row) return row;
    const from = points.get(region);
    const km = new Map<string, number>();
    row = new Float64Array(input.proxies.length);
    for (let p = 0; p < row.length; p++) {
      const to = (input.proxies[p] as PeerProxy).region;
      let d = km.get(to);
      if (d === undefined) {
        const b = points.get(to);
        d = from && b ? distanceKm(from, b) : Number.MAX_SAFE_INTEGER;
        km.set(to, d);
      }
      row[p] = d;
    }
    rows.set(region, row);
    return row;
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
  const { P, G, live, hasEligible, pickTo, pickNodes } = ctx;
  const proxies = input.proxies;
  const proxyIndex = new Map(proxies.map((p, i) => [p.name, i]));
  const sourceRegions = [...new Set(proxies.filter((p) => p.eligible).map((p) => p.region))].sort();

  // Per region, the groups with a live tunnel there (reached without a link) are not open.
  const open = new Map<string, Uint8Array>();
  const reach = new Map<string, Int32Array>();
  for (const region of sourceRegions) {
    open.set(region, live.slice());
    reach.set(region, new Int32Array(G).fill(NOT_NEEDED));
  }
  const openAt = proxies.map((p) => (p.up ? open.get(p.region) : undefined));
  for (let g = 0; g < G; g++) {
    for (const h of (input.groups[g] as TunnelGroup).holders) {
      const o = openAt[h];
      if (o) o[g] = 0;
    }
  }

  const distance = distanceTable(input);

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
    if (!mine) continue;
    const n = cover(ctx, distance(region), reach.get(region) as Int32Array, open.get(region) as Uint8Array, mine);
    const picked = new Map<number, number>();
    for (let i = 0; i < n; i++) picked.set(pickTo[i] as number, pickNodes[i] as number);
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
    const r = reach.get(region) as Int32Array;
    const o = open.get(region) as Uint8Array;
    const n = cover(ctx, distance(region), r, o, undefined);
    for (let i = 0; i < n; i++) links.push({ from: region, to: (proxies[pickTo[i] as number] as PeerProxy).name, nodes: pickNodes[i] as number, needed: true, added: true });
    for (let g = 0; g < G; g++) if (o[g]) r[g] = hasEligible[g] ? AT_CAP : NO_TARGET;
  }
  links.sort(compareLinks);
  return { links, removed, sourceRegions, reach };
}
