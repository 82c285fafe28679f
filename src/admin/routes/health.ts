import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthResponse } from '../schemas.js';

export interface HealthRoutesOptions {
  /** Undefined when ready; otherwise why not. */
  readonly notReadyReason: () => string | undefined;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, opts) => {
  app.get('/healthz', { schema: { response: { 200: HealthResponse } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: HealthResponse, 503: HealthResponse } } }, async (_req, reply) => {
    const reason = opts.notReadyReason();
    return reason ? reply.code(503).send({ status: 'not ready', reason }) : { status: 'ok' };
  });
};
