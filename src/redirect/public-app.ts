import Fastify, { type FastifyError } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { RedirectService } from './redirect-service.js';
import { canaryRoutes } from './routes/canary.js';
import { loginRoutes } from './routes/login.js';
import { nearestRoutes } from './routes/nearest.js';

export interface PublicDeps {
  readonly log: Logger;
  readonly redirects: RedirectService;
  /** Retry-After of the 503 page when no proxy is available. */
  readonly retryAfterSeconds?: number;
}

/** The public login listener's app: the geo redirect, /nearest and canary opt-in. Never listens. */
export async function buildPublicApp(deps: PublicDeps) {
  // Thousands of redirects a second: per-request logs would cost more than the redirect, and so
  // would fastify's pino child per request (for the reqId binding, about a microsecond): every
  // request logs through the listener's logger, and the failures it logs name the request id.
  const app = Fastify({
    loggerInstance: deps.log.child({ listener: 'public' }, { level: 'warn' }),
    childLoggerFactory: (logger) => logger,
    routerOptions: { maxParamLength: 2048 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error, reqId: request.id, url: request.url }, 'Public request failed');
    // Nothing from the request is reflected: fixed texts only.
    return reply.code(status).type('text/plain; charset=utf-8').send(status >= 500 ? 'Internal Server Error\n' : 'Bad Request\n');
  });
  await app.register(loginRoutes, { redirects: deps.redirects, retryAfterSeconds: deps.retryAfterSeconds ?? 10 });
  await app.register(nearestRoutes, { redirects: deps.redirects });
  // Invites are checked by the redirect service (its canaryKey and nowSeconds); without a key they are refused.
  await app.register(canaryRoutes, { redirects: deps.redirects, retryAfterSeconds: deps.retryAfterSeconds ?? 10 });
  return app;
}
