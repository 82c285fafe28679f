import type { Proxy } from '../../model/fleet.js';
import type { Result } from '../../model/result.js';
import type { Observed } from './drift.js';
import { parseNodes, parsePeerAddrs, parseProxies } from './parse-inventory.js';
import { parseClusterNetworking, type ClusterNetworking } from './peer-config.js';
import type { PlanCache } from './plan-cache.js';

type Body = Result<{ readonly body: string; readonly from: string }, string>;

/** What one read brought back, unparsed: nodes first, then proxies (a proxy that joins between them is in both), then what Meridian applies. */
export interface RawRead {
  readonly at: number;
  readonly nodes: Body;
  /** Absent when an earlier read failed. */
  readonly proxies?: Body;
  /** Absent when no read is configured (or an earlier read failed). */
  readonly cluster?: Body;
  /** The generation the allow-list receivers hold (null: none; undefined: cannot be read back). */
  readonly allowListGeneration?: Result<number | null | undefined, string>;
}

/**
 * The last good inventory, held in memory between passes: heavy (every node) and read again
 * after a restart. Everything decided from it is in status.
 */
export interface HeldInventory {
  /** Host ids per fleet proxy: a reinstalled proxy's old record lingers until its heartbeat expires. */
  readonly hostIds: ReadonlyMap<string, readonly string[]>;
  /** Nodes without proxy_ids. */
  readonly unknown: number;
  /** The cluster_networking_config as last read: what a write changes one field of. */
  readonly cluster?: ClusterNetworking;
  readonly plans: PlanCache;
}

/** What a read's fold needs (small: the nodes stay in the held inventory). */
export interface ReadOutcome {
  readonly at: number;
  /** Why the inventory was not read; the last good one stays. */
  readonly error?: string;
  readonly nodes: number;
  readonly unknown: number;
  /** What was read back of what Meridian applies; absent when the inventory was not read. */
  readonly observed?: Observed;
  readonly readBackError?: string;
}

/**
 * Parses a read into the held inventory (a new one, or the last good one on an error) and the
 * outcome to fold into status. `plans` is the held plan cache (or a new one): it learns the nodes.
 */
export function absorbRead(raw: RawRead, fleet: readonly Proxy[], regionLabel: string, held: HeldInventory | undefined, plans: PlanCache): { readonly held: HeldInventory | undefined; readonly outcome: ReadOutcome } {
  const failed = (error: string) => ({ held, outcome: { at: raw.at, error, nodes: held?.plans.nodeCount ?? 0, unknown: held?.unknown ?? 0 } });
  if (!raw.nodes.ok) return failed(`nodes inventory: ${raw.nodes.error}`);
  if (!raw.proxies) return failed('proxies inventory: not read');
  if (!raw.proxies.ok) return failed(`proxies inventory: ${raw.proxies.error}`);
  const hostMap = parseProxies(raw.proxies.value.body, raw.proxies.value.from, fleet);
  if (!hostMap.ok) return failed(`proxies inventory: ${hostMap.error}`);
  const inv = parseNodes(raw.nodes.value.body, raw.nodes.value.from, hostMap.value, regionLabel);
  if (!inv.ok) return failed(`nodes inventory: ${inv.error}`);

  const errors: string[] = [];
  const parsedCluster = raw.cluster && (raw.cluster.ok ? parseClusterNetworking(raw.cluster.value.body, raw.cluster.value.from) : raw.cluster);
  if (parsedCluster && !parsedCluster.ok) errors.push(`cluster networking read: ${parsedCluster.error}`);
  const gen = raw.allowListGeneration;
  if (gen && !gen.ok) errors.push(gen.error);
  const peerAddrs = parsePeerAddrs(raw.proxies.value.body, raw.proxies.value.from, hostMap.value);
  const observed: Observed = {
    at: raw.at,
    ...(parsedCluster?.ok ? { strategy: parsedCluster.value.strategy } : {}),
    ...(peerAddrs.ok ? { peerAddrs: peerAddrs.value } : {}),
    ...(gen?.ok && gen.value !== undefined ? { allowListGeneration: gen.value } : {}),
  };
  const hostIds = new Map<string, string[]>();
  for (const [id, name] of hostMap.value) if (name) hostIds.set(name, [...(hostIds.get(name) ?? []), id]);
  plans.setNodes(inv.value.nodes, raw.at);
  const unknown = inv.value.nodes.filter((n) => !n.proxies).length;
  // A failed cluster read keeps the last good resource: a write needs the whole of it.
  const cluster = parsedCluster?.ok ? parsedCluster.value : held?.cluster;
  return {
    held: { hostIds, unknown, plans, ...(cluster ? { cluster } : {}) },
    outcome: { at: raw.at, nodes: inv.value.nodes.length, unknown, observed, ...(errors.length ? { readBackError: errors.join('; ') } : {}) },
  };
}
