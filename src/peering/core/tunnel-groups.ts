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
  readonly byKey: Map<GroupKey, TunnelGroup>;
  /** Node index → its group, or undefined (Unknown, or no tunnel to a fleet proxy). */
  readonly groupOf: (TunnelGroup | undefined)[];
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

export function groupNodes(nodes: readonly PeerNode[], indexOf: ReadonlyMap<string, number>): TunnelGroups {
  const groups: TunnelGroup[] = [];
  const byKey = new Map<GroupKey, TunnelGroup>();
  const groupOf = new Array<TunnelGroup | undefined>(nodes.length).fill(undefined);
  const P = indexOf.size;
  // Slot h0*(P+1) for one holder, h0*(P+1)+h1+1 for two; the value is the group's index + 1.
  const pairs = P <= PAIR_TABLE_MAX_PROXIES ? new Int32Array(P * (P + 1)) : undefined;
  let scratch = new Int32Array(8);
  for (let i = 0; i < nodes.length; i++) {
    const proxies = (nodes[i] as PeerNode).proxies;
    if (!proxies?.length) continue;
    if (proxies.length > scratch.length) scratch = new Int32Array(proxies.length);
    const n = indicesInto(proxies, indexOf, scratch);
    if (!n) continue;
    const slot = pairs && n <= 2 ? (scratch[0] as number) * (P + 1) + (n === 2 ? (scratch[1] as number) + 1 : 0) : -1;
    let g = slot >= 0 && pairs ? groups[(pairs[slot] as number) - 1] : byKey.get(holderKey(scratch, n));
    if (!g) {
      const key = holderKey(scratch, n);
      g = { index: groups.length, key, holders: Array.from(scratch.subarray(0, n)), nodes: [] };
      byKey.set(key, g);
      groups.push(g);
      if (slot >= 0 && pairs) pairs[slot] = groups.length;
    }
    g.nodes.push(i);
    groupOf[i] = g;
  }
  return { groups, byKey, groupOf };
}
