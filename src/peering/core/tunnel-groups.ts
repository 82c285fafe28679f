import type { PeerNode } from './peering-input.js';

/** A number for up to three holders (the common case: agent_connection_count is 1 to 3), else a string. */
export type GroupKey = number | string;

/**
 * Nodes grouped by the exact set of proxies holding their tunnels. 100,000 nodes with two tunnels
 * each fall into a few thousand groups, and everything the planner asks is per group.
 */
export interface TunnelGroup {
  /** Its position in the group list. */
  readonly index: number;
  readonly key: GroupKey;
  /** Indices into the proxy list, ascending. */
  readonly holders: readonly number[];
  /** Indices into the node list. */
  readonly nodes: number[];
}

export interface TunnelGroups {
  readonly groups: TunnelGroup[];
}

const RADIX = 65_536;

/** The key of a set of proxy indices, sorted and without repeats. */
export function holderKey(holders: ArrayLike<number>, length = holders.length): GroupKey {
  if (length <= 3 && (holders[length - 1] ?? 0) < RADIX - 1) {
    let k = 0;
    for (let i = 0; i < length; i++) k = k * RADIX + (holders[i] as number) + 1;
    return k;
  }
  return Array.prototype.slice.call(holders, 0, length).join(',');
}

/**
 * Proxy names → sorted unique indices into `out`; returns how many. Names not in the fleet are
 * dropped (the inventory reader reports them). Insertion sort: a node has a handful of tunnels.
 */
function indicesInto(proxies: readonly string[], indexOf: ReadonlyMap<string, number>, out: Int32Array): number {
  let n = 0;
  for (const name of proxies) {
    const v = indexOf.get(name);
    if (v === undefined) continue;
    let j = n;
    while (j > 0 && (out[j - 1] as number) > v) j--;
    if (j > 0 && out[j - 1] === v) continue;
    for (let k = n; k > j; k--) out[k] = out[k - 1] as number;
    out[j] = v;
    n++;
  }
  return n;
}

/** Proxy names → sorted unique indices. */
export function holdersOf(proxies: readonly string[], indexOf: ReadonlyMap<string, number>): number[] {
  const scratch = new Int32Array(proxies.length);
  return Array.from(scratch.subarray(0, indicesInto(proxies, indexOf, scratch)));
}

/** Fleets up to this many proxies look one- and two-tunnel groups up in a flat table (P² slots) instead of a Map. */
const PAIR_TABLE_MAX_PROXIES = 1024;

/**
 * Two passes: the first finds each node's group (no key built for one or two holders), the
 * second fills node lists of the exact size, so no array grows node by node. Which group a
 * node is in (node → group) only incremental updates need: the planner builds that then.
 */
export function groupNodes(nodes: readonly PeerNode[], indexOf: ReadonlyMap<string, number>): TunnelGroups {
  const N = nodes.length;
  const P = indexOf.size;
  // Slot h0*(P+1) for one holder, h0*(P+1)+h1+1 for two; the value is the group's index + 1.
  const pairs = P <= PAIR_TABLE_MAX_PROXIES ? new Int32Array(P * (P + 1)) : undefined;
  const wider = new Map<GroupKey, number>();
  const holders: number[][] = [];
  const of = new Int32Array(N).fill(-1);
  let sizes = new Int32Array(256);
  let scratch = new Int32Array(8);
  for (let i = 0; i < N; i++) {
    const proxies = (nodes[i] as PeerNode).proxies;
    if (proxies === undefined || proxies.length === 0) continue;
    if (proxies.length > scratch.length) scratch = new Int32Array(proxies.length);
    const n = indicesInto(proxies, indexOf, scratch);
    if (n === 0) continue;
    let gi: number;
    if (pairs !== undefined && n <= 2) {
      const h0 = scratch[0] as number;
      const slot = h0 * (P + 1) + (n === 2 ? (scratch[1] as number) + 1 : 0);
      gi = (pairs[slot] as number) - 1;
      if (gi < 0) {
        gi = holders.length;
        pairs[slot] = gi + 1;
        holders.push(n === 2 ? [h0, scratch[1] as number] : [h0]);
      }
    } else {
      const key = holderKey(scratch, n);
      gi = wider.get(key) ?? -1;
      if (gi < 0) {
        gi = holders.length;
        wider.set(key, gi);
        holders.push(Array.from(scratch.subarray(0, n)));
      }
    }
    if (gi >= sizes.length) {
      const bigger = new Int32Array(sizes.length * 2);
      bigger.set(sizes);
      sizes = bigger;
    }
    sizes[gi] = (sizes[gi] as number) + 1;
    of[i] = gi;
  }
  const groups: TunnelGroup[] = [];
  for (let gi = 0; gi < holders.length; gi++) {
    const h = holders[gi] as number[];
    groups.push({ index: gi, key: holderKey(h), holders: h, nodes: new Array<number>(sizes[gi] as number) });
  }
  const filled = new Int32Array(groups.length);
  for (let i = 0; i < N; i++) {
    const gi = of[i] as number;
    if (gi >= 0) (groups[gi] as TunnelGroup).nodes[(filled[gi] as number)++] = i;
  }
  return { groups };
}
