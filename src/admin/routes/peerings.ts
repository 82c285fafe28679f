import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ProxyPeering } from '../../model/peering.js';
import { coverageReport, planReport, type ReportInput } from '../../peering/core/peering-report.js';
import { CoverageResponse, PeeringsResponse, PeeringView, PlanResponse } from '../peering-schemas.js';
import { peeringView } from '../peering-view.js';
import { ErrorResponse } from '../schemas.js';

export interface PeeringRoutesOptions {
  readonly peerings: () => Promise<readonly ProxyPeering[]>;
  readonly getPeering: (namespace: string, name: string) => Promise<ProxyPeering | undefined>;
  /** The controller's last inventory and plan for one peering; undefined before its first plan. */
  readonly peeringReport: (namespace: string, name: string) => ReportInput | undefined;
}

const Params = Type.Object({ namespace: Type.String({ maxLength: 253 }), name: Type.String({ maxLength: 253 }) });
const Limit = Type.Object({ limit: Type.Integer({ minimum: 0, maximum: 100_000, default: 100, description: 'Node rows listed at most' }) });

export const peeringRoutes: FastifyPluginAsyncTypebox<PeeringRoutesOptions> = async (app, opts) => {
  const notFound = (ns: string, name: string) => ({ statusCode: 404, error: 'Not Found', message: `no ProxyPeering ${ns}/${name}` });
  const notYet = (ns: string, name: string) => ({ statusCode: 409, error: 'Conflict', message: `ProxyPeering ${ns}/${name} has no plan yet: its first inventory has not been read` });
  app.get('/peerings', { schema: { response: { 200: PeeringsResponse } } }, async () => ({ peerings: (await opts.peerings()).map(peeringView) }));
  app.get('/peerings/:namespace/:name', { schema: { params: Params, response: { 200: PeeringView, 404: ErrorResponse } } }, async (req, reply) => {
    const p = await opts.getPeering(req.params.namespace, req.params.name);
    return p ? peeringView(p) : reply.code(404).send(notFound(req.params.namespace, req.params.name));
  });
  app.get('/peerings/:namespace/:name/coverage', { schema: { params: Params, querystring: Limit, response: { 200: CoverageResponse, 404: ErrorResponse, 409: ErrorResponse } } }, async (req, reply) => {
    const { namespace, name } = req.params;
    if (!(await opts.getPeering(namespace, name))) return reply.code(404).send(notFound(namespace, name));
    const r = opts.peeringReport(namespace, name);
    return r ? coverageReport(r, req.query.limit) : reply.code(409).send(notYet(namespace, name));
  });
  app.get('/peerings/:namespace/:name/plan', { schema: { params: Params, querystring: Limit, response: { 200: PlanResponse, 404: ErrorResponse, 409: ErrorResponse } } }, async (req, reply) => {
    const { namespace, name } = req.params;
    const p = await opts.getPeering(namespace, name);
    if (!p) return reply.code(404).send(notFound(namespace, name));
    const r = opts.peeringReport(namespace, name);
    return r ? planReport(r, req.query.limit, p.spec.holdTime ?? '30m') : reply.code(409).send(notYet(namespace, name));
  });
};
