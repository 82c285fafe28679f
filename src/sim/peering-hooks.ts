import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Result } from '../model/result.js';
import { parsePeerAllowList, type PeerAllowList } from './allow-list-input.js';
import { parseClusterNetworking, type ClusterNetworkingInput } from './cluster-networking-input.js';
import { sendJson } from './http-util.js';
import type { ClusterNetworkingResource } from './peering-state.js';
import { readSignedJson, refuse, refusal, type SignedRequestOptions } from './signed-request.js';

/** What the peering hooks change in the fleet. */
export interface PeeringHookFleet {
  /** Replaces the cluster_networking_config resource whole. */
  setClusterNetworking(input: ClusterNetworkingInput): ClusterNetworkingResource;
  /** Refused (409) when older than the applied generation. */
  applyAllowList(list: PeerAllowList): Result<PeerAllowList, string>;
  isProxy(name: string): boolean;
}

export interface PeeringHooksOptions extends SignedRequestOptions {
  readonly log: Logger | undefined;
}

/**
 * The signed peering hooks, signed and refused exactly like POST /hooks/upgrade:
 * `POST /hooks/cluster-networking` (the cluster_networking_config resource, as `tctl create`
 * would apply it: whole) and `POST /hooks/peer-allow-list` (the firewall automation between sites).
 */
export class PeeringHooks {
  constructor(
    private readonly fleet: PeeringHookFleet,
    private readonly o: PeeringHooksOptions,
  ) {}

  async clusterNetworking(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readSignedJson(req, this.o);
    if (!body.ok) return refuse(res, body.error);
    const input = parseClusterNetworking(body.value);
    if (!input.ok) return refuse(res, refusal(400, input.error.message, input.error.field));
    const stored = this.fleet.setClusterNetworking(input.value);
    this.o.log?.info({ tunnelStrategy: input.value.strategy }, 'Cluster networking set');
    sendJson(res, 200, { accepted: true, tunnelStrategy: input.value.strategy, revision: stored.metadata.revision });
  }

  async allowList(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readSignedJson(req, this.o);
    if (!body.ok) return refuse(res, body.error);
    const input = parsePeerAllowList(body.value, (name) => this.fleet.isProxy(name));
    if (!input.ok) return refuse(res, refusal(400, input.error.message, input.error.field));
    const r = this.fleet.applyAllowList(input.value);
    if (!r.ok) {
      this.o.log?.warn({ generation: input.value.generation, error: r.error }, 'Peer allow-list refused');
      return refuse(res, refusal(409, r.error, 'generation'));
    }
    this.o.log?.info({ generation: r.value.generation, rules: r.value.rules.length }, 'Peer allow-list applied');
    sendJson(res, 200, { accepted: true, generation: r.value.generation, rules: r.value.rules.length });
  }
}
