import Fastify, { type FastifyError, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { quieterLevel } from '../runtime/log-level.js';
import type { RedirectService } from './redirect-service.js';
import { canaryRoutes } from './routes/canary.js';
import { loginRoutes, VARY } from './routes/login.js';
import { nearestRoutes } from './routes/nearest.js';

export interface PublicDeps {
  readonly log: Logger;
  readonly redirects: RedirectService;
  /** Retry-After of the 503 page when no proxy is available. */
  readonly retryAfterSeconds?: number;
}

const FIXED_TEXTS: Readonly<Record<number, string>> = { 400: 'Bad Request\n', 404: 'Not Found\n', 500: 'Internal Server Error\n' };

/** An answer that is not a redirect: a fixed text (nothing from the request reflected), as uncacheable as the redirects. */
function fixedAnswer(reply: FastifyReply, status: number): FastifyReply {
  const text = FIXED_TEXTS[status] ?? (status >= 500 ? FIXED_TEXTS[500] : FIXED_TEXTS[400]);
  return reply.code(status).header('cache-control', 'no-store').header('vary', VARY).type('text/plain; charset=utf-8').send(text);
}

/** The public login listener's app: the geo redirect, /nearest and canary opt-in. Never listens. */
export async function buildPublicApp(deps: PublicDeps) {
  // Thousands of redirects a second: per-request logs would cost more than the redirect, and so
  // would fastify's pino child per request (for the reqId binding, about a microsecond): every
  // request logs through the listener's logger, and the failures it logs name the request id.
  const app = Fastify({
    loggerInstance: deps.log.child({ listener: 'public' }, { level: quieterLevel(deps.log, 'warn') }),
    childLoggerFactory: (logger) => logger,
    frameworkErrors: (_error, _request, reply) => fixedAnswer(reply, 400),
    routerOptions: { maxParamLength: 2048 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error, reqId: request.id, url: request.url }, 'Public request failed');
    return fixedAnswer(reply, status);
  });
  // fastify's own 404 and bad-URL answers quote the request target.
  app.setNotFoundHandler((_request, reply) => fixedAnswer(reply, 404));
  await app.register(loginRoutes, { redirects: deps.redirects, retryAfterSeconds: deps.retryAfterSeconds ?? 10 });
  await app.register(nearestRoutes, { redirects: deps.redirects });
  // Invites are checked by the redirect service (its canaryKey and nowSeconds); without a key they are refused.
  await app.register(canaryRoutes, { redirects: deps.redirects, retryAfterSeconds: deps.retryAfterSeconds ?? 10 });
  return app;
}
