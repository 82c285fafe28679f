import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clearCanaryCookie } from '../canary-cookie.js';
import { proxyOrigin } from '../core/redirect-location.js';
import { canaryRefusedPage, unavailablePage } from '../pages.js';
import type { RedirectService } from '../redirect-service.js';
import { VARY } from './login.js';

export interface CanaryRoutesOptions {
  readonly redirects: RedirectService;
  readonly retryAfterSeconds: number;
}

/** An invite token: `<payload>.<signature>` in base64url (see src/canary/core/invite-token.ts). */
export const JoinQuery = Type.Object({ t: Type.String({ maxLength: 512 }) });
const Html = Type.String({ description: 'text/html page' });
const NoBody = Type.Null({ description: 'no body: Location says where' });

/**
 * GET /canary/join?t=TOKEN: a valid invite sets the canary cookie and sends the user to the
 * canary's nearest ready proxy (or, with none ready, wherever the login redirect would);
 * a refused one gets a 403 page that says why and moves on to "/".
 * GET /canary/leave: forgets the invite and goes back through the login redirect.
 */
export const canaryRoutes: FastifyPluginAsyncTypebox<CanaryRoutesOptions> = async (app, opts) => {
  app.get(
    '/canary/join',
    {
      // A missing, repeated or overlong t is refused with the same page as any other bad link, not a bare 400.
      attachValidation: true,
      schema: { querystring: JoinQuery, response: { 302: NoBody, 403: Html, 503: Html } },
    },
    async (req, reply) => {
      // The empty token fails verification as malformed, so the page's words stay the check's own.
      const token = req.validationError ? '' : req.query.t;
      const out = opts.redirects.joinCanary({ socketAddress: req.socket.remoteAddress ?? '', headers: req.headers, token });
      reply.header('cache-control', 'no-store').header('vary', VARY);
      if (out.kind === 'refused') return reply.code(403).type('text/html; charset=utf-8').send(canaryRefusedPage(out.message));
      if (out.kind === 'joined') reply.header('set-cookie', out.canaryCookie);
      const { decision, setCookie } = out.redirect;
      if (setCookie) reply.header('set-cookie', setCookie);
      if (decision.kind === 'unavailable') {
        return reply.code(503).header('retry-after', String(opts.retryAfterSeconds)).type('text/html; charset=utf-8').send(unavailablePage(opts.retryAfterSeconds));
      }
      // The proxy's login page: the join link's own path and query mean nothing to the proxy.
      return reply.redirect(`${proxyOrigin(decision.publicUrl)}/`, 302);
    },
  );

  app.get('/canary/leave', { schema: { response: { 302: NoBody } } }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').header('set-cookie', clearCanaryCookie()).redirect('/', 302),
  );
};
