import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a state-changing request is refused as cross-site, or undefined when it may go on. The
 * rule of Go's net/http CrossOriginProtection: a browser says where a request comes from in
 * Sec-Fetch-Site (same-origin, or none for one the user made), older ones only in Origin, which
 * must then name this host; a request with neither is not from a browser page (the CLI, curl).
 */
export function crossSiteRefusal(method: string, headers: FastifyRequest['headers']): string | undefined {
  if (SAFE.has(method)) return undefined;
  const site = headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') return undefined;
  if (site !== undefined) return `the browser sent it from another site (Sec-Fetch-Site: ${String(site)})`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  return host !== undefined && host === headers.host ? undefined : `the browser sent it from ${origin}, not from this listener (${headers.host ?? 'no Host'})`;
}

/**
 * Refuses state-changing requests a browser sends from another site (CSRF): without a token on a
 * loopback listener, any page the operator opens could otherwise POST an abort to it.
 */
export const sameOriginPlugin = fp(
  async (app) => {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const why = crossSiteRefusal(req.method, req.headers);
      if (why === undefined) return;
      req.log.warn({ method: req.method, path: req.url.split('?')[0], origin: req.headers.origin, site: req.headers['sec-fetch-site'] }, 'Cross-site request refused');
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `cross-site request refused: ${why}; changes are made from the dashboard served by this listener, or by the CLI` });
    });
  },
  { name: 'meridian-same-origin' },
);
