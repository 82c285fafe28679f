import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ProxyPeering } from '../../model/peering.js';
import type { ProxyTunnels } from '../../peering/core/peering-report.js';
import { resolvePeeringSpec } from '../../peering/core/peering-settings.js';
import { peeringReports } from '../../peering/peering-report-view.js';
import { CoverageResponse, PeeringsResponse, PeeringView, PlanResponse } from '../peering-schemas.js';
import { peeringView } from '../peering-view.js';
import { ErrorResponse } from '../schemas.js';

export interface PeeringRoutesOptions {
  readonly peerings: () => Promise<readonly ProxyPeering[]>;
  readonly getPeering: (namespace: string, name: string) => Promise<ProxyPeering | undefined>;
  /** What the observed proxies' pages say of their node tunnels now (the coverage report's proxy table; none when absent). The rest of the reports is in each peering's status. */
  readonly proxyTunnels?: () => readonly ProxyTunnels[];
}

const Params = Type.Object({ namespace: Type.String({ maxLength: 253 }), name: Type.String({ maxLength: 253 }) });
const Limit = Type.Object({ limit: Type.Integer({ minimum: 0, maximum: 100_000, default: 100, description: 'Node rows listed at most (the controller keeps 10 per region)' }) });

export const peeringRoutes: FastifyPluginAsyncTypebox<PeeringRoutesOptions> = async (app, opts) => {
  const notFound = (ns: string, name: string) => ({ statusCode: 404, error: 'Not Found', message: `no ProxyPeering ${ns}/${name}` });
  const notYet = (ns: string, name: string) => ({ statusCode: 409, error: 'Conflict', message: `ProxyPeering ${ns}/${name} has no plan yet: its first inventory has not been read` });
  const reports = (p: ProxyPeering, limit: number) => peeringReports(p.status ?? {}, resolvePeeringSpec(p.spec).holdTime, opts.proxyTunnels?.() ?? [], limit);
  app.get('/peerings', { schema: { response: { 200: PeeringsResponse } } }, async () => ({ peerings: (await opts.peerings()).map(peeringView) }));
  app.get('/peerings/:namespace/:name', { schema: { params: Params, response: { 200: PeeringView, 404: ErrorResponse } } }, async (req, reply) => {
    const p = await opts.getPeering(req.params.namespace, req.params.name);
    return p ? peeringView(p) : reply.code(404).send(notFound(req.params.namespace, req.params.name));
  });
  app.get('/peerings/:namespace/:name/coverage', { schema: { params: Params, querystring: Limit, response: { 200: CoverageResponse, 404: ErrorResponse, 409: ErrorResponse } } }, async (req, reply) => {
    const { namespace, name } = req.params;
    const p = await opts.getPeering(namespace, name);
    if (!p) return reply.code(404).send(notFound(namespace, name));
    const r = reports(p, req.query.limit);
    return r ? r.coverage : reply.code(409).send(notYet(namespace, name));
  });
  app.get('/peerings/:namespace/:name/plan', { schema: { params: Params, querystring: Limit, response: { 200: PlanResponse, 404: ErrorResponse, 409: ErrorResponse } } }, async (req, reply) => {
    const { namespace, name } = req.params;
    const p = await opts.getPeering(namespace, name);
    if (!p) return reply.code(404).send(notFound(namespace, name));
    const r = reports(p, req.query.limit);
    return r ? r.plan : reply.code(409).send(notYet(namespace, name));
  });
};
