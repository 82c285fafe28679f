import { err, ok, type Result } from '../model/result.js';
import type { PeerAllowList, PeerRule } from './allow-list-input.js';
import { RESOURCE_NAME, type ClusterNetworkingInput, type TunnelStrategy } from './cluster-networking-input.js';
import type { PeerRules } from './peer-reach.js';

/** What GET /peering shows of the allow-list; generation null until one is applied. */
export interface AllowListView {
  readonly generation: number | null;
  readonly generatedAt: string | null;
  readonly port: number | null;
  readonly rules: readonly PeerRule[];
}

function pairKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

/** Rules compared as a set: the same openings in another order are the same list. */
function sameRules(a: PeerAllowList, b: PeerAllowList): boolean {
  const key = (r: PeerRule): string => `${r.from}\u0000${r.to}\u0000${r.toAddress}`;
  const sa = new Set(a.rules.map(key));
  const sb = new Set(b.rules.map(key));
  return a.port === b.port && sa.size === sb.size && [...sa].every((k) => sb.has(k));
}

/** Teleport's label naming where a cluster config resource came from (defaults, config-file, dynamic). */
export const ORIGIN_LABEL = 'teleport.dev/origin';

/** `tctl get cluster_networking_config --format=json`: the stored resource. */
export interface ClusterNetworkingResource {
  readonly kind: 'cluster_networking_config';
  readonly version: 'v2';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly revision: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** Teleport's defaults (keep-alive 5 m, 3 missed; agent_mesh), origin `defaults`. */
const DEFAULT_SPEC = { keep_alive_interval: '5m0s', keep_alive_count_max: 3, tunnel_strategy: { type: 'agent_mesh' } };

/**
 * The cluster's networking resource and the firewall's allow-list between proxy sites. Peering
 * starts off (agent_mesh). The resource is replaced whole, as Teleport's upsert does; one written
 * through the API is of origin `dynamic`. The allow-list is replaced whole, and only by a
 * generation at least as new as the one applied, so a request delayed behind a newer one cannot
 * undo it.
 */
export class PeeringState implements PeerRules {
  private tunnelStrategy: TunnelStrategy = { type: 'agent_mesh' };
  private writes = 0;
  private resource: ClusterNetworkingResource = {
    kind: 'cluster_networking_config',
    version: 'v2',
    metadata: { name: RESOURCE_NAME, labels: { [ORIGIN_LABEL]: 'defaults' }, revision: 'rev-0' },
    spec: DEFAULT_SPEC,
  };
  private list: PeerAllowList | undefined;
  private pairs = new Set<string>();

  get peering(): boolean {
    return this.tunnelStrategy.type === 'proxy_peering';
  }

  get strategy(): TunnelStrategy {
    return this.tunnelStrategy;
  }

  allows(from: string, to: string): boolean {
    return this.pairs.has(pairKey(from, to));
  }

  get clusterNetworking(): ClusterNetworkingResource {
    return this.resource;
  }

  /** Replaces the resource whole; `origin` is what the write path sets (the API: dynamic). */
  setClusterNetworking(input: ClusterNetworkingInput, origin = 'dynamic'): ClusterNetworkingResource {
    this.tunnelStrategy = input.strategy;
    this.resource = {
      kind: 'cluster_networking_config',
      version: 'v2',
      metadata: { name: RESOURCE_NAME, labels: { ...input.labels, [ORIGIN_LABEL]: origin }, revision: `rev-${++this.writes}` },
      spec: input.spec,
    };
    return this.resource;
  }

  /** Replaces the allow-list; an older generation, or the same one with other rules, is refused. */
  applyAllowList(next: PeerAllowList): Result<PeerAllowList, string> {
    const applied = this.list;
    if (applied && next.generation < applied.generation) {
      return err(`generation ${next.generation} is older than the applied generation ${applied.generation} (a stale or reordered request)`);
    }
    if (applied && next.generation === applied.generation) {
      return sameRules(applied, next) ? ok(applied) : err(`generation ${next.generation} was already applied with other rules`);
    }
    this.list = next;
    this.pairs = new Set(next.rules.map((r) => pairKey(r.from, r.to)));
    return ok(next);
  }

  allowListView(): AllowListView {
    const l = this.list;
    return l ? { generation: l.generation, generatedAt: l.generatedAt, port: l.port, rules: l.rules } : { generation: null, generatedAt: null, port: null, rules: [] };
  }
}
