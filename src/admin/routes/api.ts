import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { normaliseIp } from '../../model/ip-address.js';
import type { ExplainedChoice } from '../../redirect/core/explain-choice.js';
import { ErrorResponse, ExplainResponse, FleetsResponse, FleetView, ProblemsResponse } from '../schemas.js';

export interface ApiRoutesOptions {
  readonly fleets: () => Promise<FleetsResponse>;
  readonly problems: () => ProblemsResponse;
  /** The login redirect's decision for an address, with every region's verdict; undefined before the first observation. */
  /** `canary`: as a user who opted in to that canary. */
  readonly explain: (ip: string, regionOverride?: string, canary?: string) => ExplainedChoice | undefined;
}

export const apiRoutes: FastifyPluginAsyncTypebox<ApiRoutesOptions> = async (app, opts) => {
  app.get('/fleet', { schema: { response: { 200: FleetsResponse } } }, async () => opts.fleets());
  app.get(
    '/fleet/:namespace/:name',
    {
      schema: {
        params: Type.Object({ namespace: Type.String({ maxLength: 253 }), name: Type.String({ maxLength: 253 }) }),
        response: { 200: FleetView, 404: ErrorResponse },
      },
    },
    async (req, reply) => {
      const found = (await opts.fleets()).fleets.find((f) => f.namespace === req.params.namespace && f.name === req.params.name);
      return found ?? reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no ProxyFleet ${req.params.namespace}/${req.params.name}` });
    },
  );
  app.get(
    '/explain-redirect',
    {
      schema: {
        querystring: Type.Object({ ip: Type.String({ minLength: 2, maxLength: 64 }), region: Type.Optional(Type.String({ maxLength: 63 })), canary: Type.Optional(Type.String({ maxLength: 253 })) }),
        response: { 200: ExplainResponse, 400: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (req, reply) => {
      const ip = normaliseIp(req.query.ip);
      if (!ip) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'ip: not an IPv4 or IPv6 address' });
      const explained = opts.explain(ip, req.query.region, req.query.canary);
      return explained ? { ip, ...explained } : reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: 'no fleet has been observed yet' });
    },
  );
  app.get('/problems', { schema: { response: { 200: ProblemsResponse } } }, async () => opts.problems());
};
