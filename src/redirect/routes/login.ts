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
  const handler = (req: FastifyRequest<{ Querystring: { region?: unknown } }>, reply: FastifyReply): FastifyReply | undefined => {
    const out = opts.redirects.decide({ socketAddress: req.socket.remoteAddress ?? '', headers: req.headers, regionParam: req.query.region });
    if (out.decision.kind === 'unavailable') {
      reply.header('cache-control', 'no-store').header('vary', VARY);
      if (out.setCookie) reply.header('set-cookie', out.setCookie);
      if (out.canaryCookie) reply.header('set-cookie', out.canaryCookie);
      return reply.code(503).header('retry-after', String(opts.retryAfterSeconds)).type('text/html; charset=utf-8').send(unavailablePage(opts.retryAfterSeconds));
    }
    // The 302 goes straight to Node's response, headers as a flat list: fastify's reply pipeline
    // (a headers object, onSend) cost more than the whole decision at thousands a second, and
    // nothing in this app hooks responses. Node still adds Date and the connection headers.
    // Worked out before the hijack: past it, a throw would reach no error handler.
    const location = locationFor(out.decision.publicUrl, req.url);
    reply.hijack();
    // Rare (a region chosen, a canary cookie cleared): cookies as one list, which every HTTP
    // layer keeps as separate lines (inject's drops all but the last of repeated raw lines).
    if (out.setCookie !== undefined || out.canaryCookie !== undefined) reply.raw.setHeader('set-cookie', [out.setCookie, out.canaryCookie].filter((c) => c !== undefined));
    reply.raw.writeHead(302, ['cache-control', 'no-store', 'vary', VARY, 'location', location, 'content-length', '0']).end();
    return undefined;
  };
  app.get('/', handler);
  app.get('/web', handler);
  app.get('/web/*', handler);
};
