import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RedirectService } from '../redirect-service.js';
import { VARY } from './login.js';

export interface NearestRoutesOptions {
  readonly redirects: RedirectService;
}

const NearestAnswer = Type.Object({
  region: Type.String(),
  proxy: Type.String(),
  url: Type.String(),
  distanceKm: Type.Union([Type.Number(), Type.Null()]),
  reason: Type.String(),
  /** False when the proxy's load is unknown (its metrics unread): chosen only because no proxy of its region had a known load. */
  loadKnown: Type.Boolean(),
});
const Unavailable = Type.Object({ error: Type.String(), reason: Type.String() });

/**
 * GET /nearest: the proxy the login URL would choose, as JSON, or `?format=host` as the bare
 * host for scripts: `tsh login --proxy=$(curl -s https://login.example.com/nearest?format=host)`.
 */
export const nearestRoutes: FastifyPluginAsyncTypebox<NearestRoutesOptions> = async (app, opts) => {
  app.get(
    '/nearest',
    {
      schema: {
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('host')])), region: Type.Optional(Type.Unknown()) }),
        // The string branch is the text/plain answer of ?format=host.
        response: { 200: Type.Union([NearestAnswer, Type.String()]), 503: Unavailable },
      },
    },
    async (req, reply) => {
      const out = opts.redirects.decide({ socketAddress: req.socket.remoteAddress ?? '', headers: req.headers, regionParam: req.query.region });
      reply.header('cache-control', 'no-store').header('vary', VARY);
      if (out.setCookie) reply.header('set-cookie', out.setCookie);
      if (out.canaryCookie) reply.header('set-cookie', out.canaryCookie);
      const d = out.decision;
      if (d.kind === 'unavailable') return reply.code(503).send({ error: 'no proxy available', reason: d.reason });
      if (req.query.format === 'host') return reply.type('text/plain; charset=utf-8').send(`${new URL(d.publicUrl).host}\n`);
      return { region: d.region, proxy: d.proxy, url: d.publicUrl, distanceKm: d.distanceKm === undefined ? null : Math.round(d.distanceKm), reason: d.reason, loadKnown: d.loadUnknown !== true };
    },
  );
};
