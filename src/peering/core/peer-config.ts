import type { Proxy } from '../../model/fleet.js';
import { compareLinks, linkId, type LinkKey } from './peering-input.js';

export const DEFAULT_PEER_PORT = 3021;

/** Where other proxies dial this one: its peerAddress, else the host of its diagnostic address (an internal one) on the peer port. */
export function peerPublicAddr(p: Proxy, port: number): string {
  if (p.peerAddress) return p.peerAddress;
  const host = new URL(p.diagnosticUrl).hostname;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Teleport's cluster networking resource with proxy peering, as `tctl create -f` takes it. */
export function clusterNetworkingConfig(agentConnectionCount: number): Record<string, unknown> {
  return {
    kind: 'cluster_networking_config',
    version: 'v2',
    metadata: { name: 'cluster-networking-config' },
    spec: { tunnel_strategy: { type: 'proxy_peering', agent_connection_count: agentConnectionCount } },
  };
}

export interface AllowRule {
  readonly from: string;
  readonly to: string;
  readonly toAddress: string;
  /** The region link the rule serves. */
  readonly link: string;
}

export interface AllowList {
  readonly rules: readonly AllowRule[];
  /** Changes exactly when the rules do. */
  readonly digest: string;
}

/**
 * The firewall rules links need: every proxy of the source region (ready or not: one coming back
 * must already be allowed) may dial the target's peer address. Within a region nothing is
 * listed (one site, one network).
 */
export function renderAllowList(links: readonly LinkKey[], proxies: readonly Proxy[], port: number): AllowList {
  const byName = new Map(proxies.map((p) => [p.name, p]));
  const rules: AllowRule[] = [];
  for (const l of links) {
    const to = byName.get(l.to);
    if (!to) continue;
    const link = linkId(l);
    for (const p of proxies) if (p.region === l.from && p.name !== l.to) rules.push({ from: p.name, to: l.to, toAddress: peerPublicAddr(to, port), link });
  }
  rules.sort(compareLinks);
  const digest = fnv64(JSON.stringify(rules));
  return { rules, digest };
}

/** FNV-1a over UTF-16 code units, two 32-bit lanes: a change detector for status, not a security hash. */
function fnv64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
