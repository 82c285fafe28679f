import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Result } from '../model/result.js';
import type { Denial, NodeListing, PeeringView, ReachView } from './fleet-peering.js';
import { CONTROL_BODY_LIMIT_BYTES, methodNotAllowed, readJsonBody, sendJson } from './http-util.js';
import type { ClusterNetworkingResource } from './peering-state.js';
import { parsePinTunnels } from './pin-input.js';

/** The fleet operations behind the peering routes of the control API. */
export interface PeeringControl {
  reach(proxy: string, node: string): Result<ReachView, Denial>;
  listNodes(): readonly NodeListing[];
  pinNode(node: string, proxies: readonly string[]): Result<NodeListing, Denial>;
  unpinNode(node: string): Result<NodeListing, Denial>;
  peeringView(): PeeringView;
  /** As `tctl get cluster_networking_config --format=json` prints it. */
  clusterNetworking(): ClusterNetworkingResource;
  isProxy(name: string): boolean;
  /** By id or hostname. */
  hasNode(node: string): boolean;
}

/** A request to a peering route, split up by the control API's router. */
export interface PeeringRequest {
  readonly method: string;
  readonly path: string;
  /** Path segments, decoded. */
  readonly seg: readonly string[];
  readonly query: URLSearchParams;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

function reply<T>(res: ServerResponse, r: Result<T, Denial>): void {
  if (r.ok) sendJson(res, 200, r.value);
  else sendJson(res, r.error.status, { error: r.error.error });
}

function routeReach(fleet: PeeringControl, r: PeeringRequest): void {
  if (r.method !== 'GET') return methodNotAllowed(r.res, r.method, r.path, 'GET');
  for (const key of r.query.keys()) {
    if (key !== 'proxy' && key !== 'node') return sendJson(r.res, 400, { error: `${key}: unknown query parameter (allowed: "proxy", "node")`, field: key });
  }
  const proxy = r.query.get('proxy');
  if (!proxy) return sendJson(r.res, 400, { error: 'proxy: is required (a proxy name)', field: 'proxy' });
  const node = r.query.get('node');
  if (!node) return sendJson(r.res, 400, { error: 'node: is required (a node id or hostname)', field: 'node' });
  reply(r.res, fleet.reach(proxy, node));
}

async function routeTunnels(fleet: PeeringControl, node: string, r: PeeringRequest): Promise<void> {
  if (!fleet.hasNode(node)) return sendJson(r.res, 404, { error: `no node with id or hostname "${node}"` });
  if (r.method === 'DELETE') return reply(r.res, fleet.unpinNode(node));
  if (r.method !== 'PUT') return methodNotAllowed(r.res, r.method, r.path, 'PUT, DELETE');
  const body = await readJsonBody(r.req, CONTROL_BODY_LIMIT_BYTES);
  if (!body.ok) return sendJson(r.res, 400, { error: `body: ${body.error}`, field: 'body' });
  const input = parsePinTunnels(body.value, (name) => fleet.isProxy(name));
  if (!input.ok) return sendJson(r.res, 400, { error: input.error.message, field: input.error.field });
  reply(r.res, fleet.pinNode(node, input.value));
}

/**
 * `GET /reach?proxy=&node=`, `GET /nodes`, `PUT|DELETE /nodes/:node/tunnels`, `GET /peering`,
 * `GET /cluster-networking` (a list of the one resource, as `tctl get cluster_networking_config
 * --format=json` prints it) and `GET /peer-allow-list` (what the firewall automation holds:
 * generation null after a restart). False when the path is none of them.
 */
export async function routePeering(fleet: PeeringControl, r: PeeringRequest): Promise<boolean> {
  const [root, second, third, ...rest] = r.seg;
  if (rest.length > 0) return false;
  if (root === 'reach' && second === undefined) {
    routeReach(fleet, r);
    return true;
  }
  if (root === 'peering' && second === undefined) {
    if (r.method !== 'GET') methodNotAllowed(r.res, r.method, r.path, 'GET');
    else sendJson(r.res, 200, fleet.peeringView());
    return true;
  }
  if ((root === 'cluster-networking' || root === 'peer-allow-list') && second === undefined) {
    if (r.method !== 'GET') methodNotAllowed(r.res, r.method, r.path, 'GET');
    else sendJson(r.res, 200, root === 'cluster-networking' ? [fleet.clusterNetworking()] : fleet.peeringView().allowList);
    return true;
  }
  if (root === 'nodes' && second === undefined) {
    if (r.method !== 'GET') methodNotAllowed(r.res, r.method, r.path, 'GET');
    else sendJson(r.res, 200, fleet.listNodes());
    return true;
  }
  if (root === 'nodes' && second !== undefined && third === 'tunnels') {
    await routeTunnels(fleet, second, r);
    return true;
  }
  return false;
}
