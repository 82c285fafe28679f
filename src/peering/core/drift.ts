import type { DriftKind, ProxyPeeringStatus } from '../../model/peering.js';

/** What one observation (every inventory interval, and soon after an apply) saw of what Meridian applies. */
export interface Observed {
  readonly at: number;
  /** The cluster_networking_config's strategy; absent when no read is configured (or it failed). */
  readonly strategy?: { readonly type: string; readonly agentConnectionCount?: number };
  /** `peer_addr` ('' for none) of each fleet proxy the proxies inventory lists. */
  readonly peerAddrs?: ReadonlyMap<string, string>;
  /** The generation the firewall automation holds (null: none); absent when it cannot be read. */
  readonly allowListGeneration?: number | null;
}

export interface Drift {
  readonly what: DriftKind;
  readonly subject?: string;
  readonly detail: string;
}

/**
 * What Meridian applied (its status, a record) against what the observation shows. Only an
 * observation made after the apply can contradict it; a proxy's listener is judged only under an
 * observed proxy_peering, since Teleport opens it only at a start under that strategy.
 */
export function findDrift(st: ProxyPeeringStatus, o: Observed, configureProxies: boolean): Drift[] {
  const out: Drift[] = [];
  const after = (iso: string): boolean => o.at > Date.parse(iso);
  const ts = st.tunnelStrategy;
  if (ts && o.strategy && after(ts.appliedAt) && (o.strategy.type !== 'proxy_peering' || o.strategy.agentConnectionCount !== ts.agentConnectionCount)) {
    const seen = o.strategy.type === 'proxy_peering' ? `proxy_peering with agent_connection_count ${o.strategy.agentConnectionCount ?? 'unset'}` : o.strategy.type;
    out.push({ what: 'cluster_networking', detail: `cluster_networking_config has tunnel_strategy ${seen}, not proxy_peering with agent_connection_count ${ts.agentConnectionCount}` });
  }
  const peering = o.strategy ? o.strategy.type === 'proxy_peering' : ts !== undefined;
  if (configureProxies && peering && o.peerAddrs) {
    for (const c of st.configured ?? []) {
      const seen = o.peerAddrs.get(c.proxy);
      if (seen === undefined || seen === c.publicAddr || !after(c.at)) continue;
      out.push({ what: 'peer_listener', subject: c.proxy, detail: `proxy ${c.proxy} advertises ${seen ? `peer_addr ${seen}` : 'no peer_addr'}, not ${c.publicAddr} (restarted without its peer listener?)` });
    }
  }
  const al = st.allowList;
  if (al && o.allowListGeneration !== undefined && after(al.appliedAt) && o.allowListGeneration !== al.generation) {
    out.push({ what: 'allow_list', detail: `the firewall automation holds ${o.allowListGeneration === null ? 'no allow-list' : `generation ${o.allowListGeneration}`}, not ${al.generation}` });
  }
  return out;
}
