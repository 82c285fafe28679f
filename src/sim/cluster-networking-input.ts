import { ok, type Result } from '../model/result.js';
import type { InputError } from './control-input.js';
import { bad, integerAt, literalAt, objectAt, type Fields } from './input-fields.js';

export const TUNNEL_STRATEGY_TYPES = ['agent_mesh', 'proxy_peering'] as const;

/** `spec.tunnel_strategy` of Teleport's cluster_networking_config, defaults filled as Teleport fills them. */
export type TunnelStrategy =
  | { readonly type: 'agent_mesh' }
  | { readonly type: 'proxy_peering'; readonly agent_connection_count: number };

/** Teleport's default when proxy_peering names no count. */
export const DEFAULT_AGENT_CONNECTION_COUNT = 1;
/** Far above any sensible fleet; it only keeps the number sane. */
const MAX_AGENT_CONNECTION_COUNT = 100;

export const RESOURCE_NAME = 'cluster-networking-config';

/** A cluster_networking_config as `tctl create` hands it over: the strategy the simulator acts on, and the rest of it, kept as sent. */
export interface ClusterNetworkingInput {
  readonly strategy: TunnelStrategy;
  /** Every spec field, `tunnel_strategy` with its defaults filled. */
  readonly spec: Readonly<Record<string, unknown>>;
  readonly labels: Readonly<Record<string, string>>;
}

function parseStrategy(value: unknown): Result<TunnelStrategy, InputError> {
  // Teleport fills an absent strategy with agent_mesh.
  if (value === undefined) return ok({ type: 'agent_mesh' });
  const strategy = objectAt(value, 'spec.tunnel_strategy', ['type', 'agent_connection_count']);
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

/** An object with any fields. */
function anyObjectAt(value: unknown, field: string): Result<Fields, InputError> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? ok(value as Fields) : bad(field, 'must be a JSON object');
}

function parseLabels(value: unknown): Result<Readonly<Record<string, string>>, InputError> {
  if (value === undefined) return ok({});
  const labels = anyObjectAt(value, 'metadata.labels');
  if (!labels.ok) return labels;
  for (const [k, v] of Object.entries(labels.value)) if (typeof v !== 'string') return bad(`metadata.labels.${k}`, `must be a string, got ${JSON.stringify(v)}`);
  return ok(labels.value as Readonly<Record<string, string>>);
}

/**
 * The JSON form of the cluster_networking_config resource, as `tctl create` takes it. The whole
 * resource replaces the stored one, as in Teleport: the simulator acts on `tunnel_strategy` and
 * keeps every other spec field (idle timeouts, proxy_listener_mode, routing_strategy...) as sent,
 * so that a writer that dropped them sees them gone when it reads the resource back.
 */
export function parseClusterNetworking(body: unknown): Result<ClusterNetworkingInput, InputError> {
  const root = objectAt(body, 'body', ['kind', 'version', 'metadata', 'spec']);
  if (!root.ok) return root;
  const kind = literalAt(root.value['kind'], 'kind', ['cluster_networking_config']);
  if (!kind.ok) return kind;
  const version = literalAt(root.value['version'], 'version', ['v2']);
  if (!version.ok) return version;
  if (root.value['metadata'] === undefined) return bad('metadata', 'is required');
  const metadata = objectAt(root.value['metadata'], 'metadata', ['name', 'labels', 'revision', 'description']);
  if (!metadata.ok) return metadata;
  const name = literalAt(metadata.value['name'], 'metadata.name', [RESOURCE_NAME]);
  if (!name.ok) return name;
  const labels = parseLabels(metadata.value['labels']);
  if (!labels.ok) return labels;
  if (root.value['spec'] === undefined) return bad('spec', 'is required');
  const spec = anyObjectAt(root.value['spec'], 'spec');
  if (!spec.ok) return spec;
  const strategy = parseStrategy(spec.value['tunnel_strategy']);
  if (!strategy.ok) return strategy;
  return ok({ strategy: strategy.value, spec: { ...spec.value, tunnel_strategy: strategy.value }, labels: labels.value });
}
