import type { Proxy } from '../../model/fleet.js';
import { err, ok, type Result } from '../../model/result.js';
import { compareLinks, linkId, type LinkKey } from './peering-input.js';

/** Where other proxies dial this one: its peerAddress, else the host of its diagnostic address (an internal one) on the peer port. */
export function peerPublicAddr(p: Proxy, port: number): string {
  if (p.peerAddress) return p.peerAddress;
  const host = new URL(p.diagnosticUrl).hostname;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Teleport's label naming where a cluster config resource came from. */
export const ORIGIN_LABEL = 'teleport.dev/origin';

/** The cluster_networking_config as read back: the whole resource, and the strategy it holds. */
export interface ClusterNetworking {
  readonly resource: Readonly<Json>;
  readonly strategy: { readonly type: string; readonly agentConnectionCount?: number };
  /** `teleport.dev/origin`: defaults, config-file or dynamic. */
  readonly origin: string | undefined;
}

/** `tctl get cluster_networking_config --format=json` (a list of one, or the object). */
export function parseClusterNetworking(body: string, source: string): Result<ClusterNetworking, string> {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    return err(`${source}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const resource = (Array.isArray(v) ? v : [v]).find((r): r is Json => isObject(r) && r['kind'] === 'cluster_networking_config');
  if (!resource) return err(`${source}: no cluster_networking_config resource in the answer`);
  const spec = resource['spec'];
  if (!isObject(spec)) return err(`${source}: cluster_networking_config has no spec object`);
  const ts = spec['tunnel_strategy'];
  // Teleport fills an absent strategy with agent_mesh.
  const type = isObject(ts) && typeof ts['type'] === 'string' ? ts['type'] : 'agent_mesh';
  const count = isObject(ts) && typeof ts['agent_connection_count'] === 'number' ? ts['agent_connection_count'] : undefined;
  const metadata = resource['metadata'];
  const labels = isObject(metadata) && isObject(metadata['labels']) ? metadata['labels'] : {};
  const origin = typeof labels[ORIGIN_LABEL] === 'string' ? (labels[ORIGIN_LABEL] as string) : undefined;
  return ok({ resource, strategy: { type, ...(count === undefined ? {} : { agentConnectionCount: count }) }, origin });
}

/** What `tctl create` is given: the resource, and the flags Teleport's tctl demands for it. */
export interface ClusterNetworkingWrite {
  readonly resource: Readonly<Json>;
  /** `-f`: tctl refuses to overwrite a stored resource whose origin is not `defaults` without it. */
  readonly force: boolean;
  /** `--confirm`: tctl refuses to overwrite one whose origin is `config-file` (teleport.yaml) without it. */
  readonly confirm: boolean;
}

/**
 * The read resource with only `spec.tunnel_strategy` changed: `tctl create` replaces the whole
 * resource, so every other field (idle timeouts, proxy_listener_mode, routing_strategy...) and the
 * metadata are written back as read. The flags follow tctl's checkCreateResourceWithOrigin.
 */
export function withProxyPeering(current: ClusterNetworking, agentConnectionCount: number): ClusterNetworkingWrite {
  const spec = isObject(current.resource['spec']) ? current.resource['spec'] : {};
  return {
    resource: { ...current.resource, spec: { ...spec, tunnel_strategy: { type: 'proxy_peering', agent_connection_count: agentConnectionCount } } },
    force: current.origin !== 'defaults',
    confirm: current.origin === 'config-file',
  };
}

export interface AllowRule {
  readonly from: string;
  readonly to: string;
  readonly toAddress: string;
  /** The region link the rule serves. */
  readonly link: string;
}

/** What the allow-list receivers get: the file's content and the webhook's body. */
export interface AllowListDocument {
  readonly kind: 'PeerAllowList';
  readonly peering: string;
  readonly generation: number;
  readonly generatedAt: string;
  readonly port: number;
  readonly rules: readonly AllowRule[];
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
