import { ok, type Result } from '../model/result.js';
import type { InputError } from './control-input.js';
import { bad, integerAt, literalAt, objectAt } from './input-fields.js';

export const TUNNEL_STRATEGY_TYPES = ['agent_mesh', 'proxy_peering'] as const;

/** `spec.tunnel_strategy` of Teleport's cluster_networking_config, defaults filled as Teleport fills them. */
export type TunnelStrategy =
  | { readonly type: 'agent_mesh' }
  | { readonly type: 'proxy_peering'; readonly agent_connection_count: number };

/** Teleport's default when proxy_peering names no count. */
export const DEFAULT_AGENT_CONNECTION_COUNT = 1;
/** Far above any sensible fleet; it only keeps the number sane. */
const MAX_AGENT_CONNECTION_COUNT = 100;

const RESOURCE_NAME = 'cluster-networking-config';

/**
 * The JSON form of the cluster_networking_config resource, as `tctl create -f` takes it, with
 * only the fields the simulator honours: any other field is refused by name rather than
 * silently ignored, so a controller that sends more learns that nothing applied it.
 */
export function parseClusterNetworking(body: unknown): Result<TunnelStrategy, InputError> {
  const root = objectAt(body, 'body', ['kind', 'version', 'metadata', 'spec']);
  if (!root.ok) return root;
  const kind = literalAt(root.value['kind'], 'kind', ['cluster_networking_config']);
  if (!kind.ok) return kind;
  const version = literalAt(root.value['version'], 'version', ['v2']);
  if (!version.ok) return version;
  if (root.value['metadata'] === undefined) return bad('metadata', 'is required');
  const metadata = objectAt(root.value['metadata'], 'metadata', ['name']);
  if (!metadata.ok) return metadata;
  const name = literalAt(metadata.value['name'], 'metadata.name', [RESOURCE_NAME]);
  if (!name.ok) return name;
  if (root.value['spec'] === undefined) return bad('spec', 'is required');
  const spec = objectAt(root.value['spec'], 'spec', ['tunnel_strategy']);
  if (!spec.ok) return spec;
  if (spec.value['tunnel_strategy'] === undefined) return bad('spec.tunnel_strategy', 'is required');
  const strategy = objectAt(spec.value['tunnel_strategy'], 'spec.tunnel_strategy', ['type', 'agent_connection_count']);
  if (!strategy.ok) return strategy;
  const type = literalAt(strategy.value['type'], 'spec.tunnel_strategy.type', TUNNEL_STRATEGY_TYPES);
  if (!type.ok) return type;
  const count = strategy.value['agent_connection_count'];
  if (type.value === 'agent_mesh') {
    return count === undefined ? ok({ type: 'agent_mesh' }) : bad('spec.tunnel_strategy.agent_connection_count', 'applies only to type "proxy_peering"');
  }
  if (count === undefined) return ok({ type: 'proxy_peering', agent_connection_count: DEFAULT_AGENT_CONNECTION_COUNT });
  const n = integerAt(count, 'spec.tunnel_strategy.agent_connection_count', 1, MAX_AGENT_CONNECTION_COUNT);
  return n.ok ? ok({ type: 'proxy_peering', agent_connection_count: n.value }) : n;
}
