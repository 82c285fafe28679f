import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorResponse, FleetsResponse, FleetView, ProblemsResponse } from '../schemas.js';

export interface ApiRoutesOptions {
  readonly fleets: () => Promise<FleetsResponse>;
  readonly problems: () => ProblemsResponse;
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
  app.get('/problems', { schema: { response: { 200: ProblemsResponse } } }, async () => opts.problems());
};
