import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { loginLocations } from '../login-locations.js';
import { unavailablePage } from '../pages.js';
import type { RedirectService } from '../redirect-service.js';

export interface LoginRoutesOptions {
  readonly redirects: RedirectService;
  readonly retryAfterSeconds: number;
}

// Every answer depends on who asks: never cached, never shared between users.
export const VARY = 'Cookie, X-Forwarded-For, Forwarded';

/** GET / and GET /web/*: 302 to the chosen proxy's public URL with the path and query kept. */
export const loginRoutes: FastifyPluginAsync<LoginRoutesOptions> = async (app, opts) => {
  const locationFor = loginLocations();
  const handler = (req: FastifyRequest<{ Querystring: { region?: unknown } }>, reply: FastifyReply): FastifyReply => {
    const out = opts.redirects.decide({ socketAddress: req.socket.remoteAddress ?? '', headers: req.headers, regionParam: req.query.region });
    reply.header('cache-control', 'no-store').header('vary', VARY);
    if (out.setCookie) reply.header('set-cookie', out.setCookie);
    if (out.canaryCookie) reply.header('set-cookie', out.canaryCookie);
    if (out.decision.kind === 'unavailable') {
      return reply.code(503).header('retry-after', String(opts.retryAfterSeconds)).type('text/html; charset=utf-8').send(unavailablePage(opts.retryAfterSeconds));
    }
    return reply.code(302).header('location', locationFor(out.decision.publicUrl, req.url)).send();
  };
  app.get('/', handler);
  app.get('/web', handler);
  app.get('/web/*', handler);
};
