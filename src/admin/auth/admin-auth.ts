import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { BEARER_TOKEN, type NamedToken } from './token-file.js';

/** The admin API's tokens; with no admin token every request is let through (the listener is then on loopback). */
export interface AdminAuth {
  /** May change state, and read. */
  readonly admin: readonly NamedToken[];
  /** May only read; when there are any, reads and /metrics need a token too. */
  readonly read: readonly NamedToken[];
}

/** What a route needs: health probes are always open; GET and HEAD read; every other method changes state. */
export type Access = 'open' | 'read' | 'change';

export interface RouteAccess {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
  /** Path parameters the route's schema limits to a list (the verb of `/rollouts/:namespace/:name/:verb`). */
  readonly choices: Readonly<Record<string, readonly string[]>>;
}

/** Of a params schema, each property that is a union of literals, with its literals. */
function choicesOf(params: unknown): Record<string, string[]> {
  const properties = (params as { properties?: Record<string, { anyOf?: { const?: unknown }[] }> } | undefined)?.properties ?? {};
  const out: Record<string, string[]> = {};
  for (const [name, p] of Object.entries(properties)) {
    const values = (p.anyOf ?? []).map((b) => b.const);
    if (values.length && values.every((v): v is string => typeof v === 'string')) out[name] = values;
  }
  return out;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app with the access it needs, in registration order. */
    readonly routeAccess: readonly RouteAccess[];
  }
  interface FastifyRequest {
    /** Who sent it: a token's name, or `anonymous` where no token is asked for. */
    caller: string;
  }
}

const PROBES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);
/** The dashboard's page and files carry no data (it comes from the API, with the token the operator enters there). */
const PAGE: ReadonlySet<string> = new Set(['/', '/dashboard/:version/:file']);
const REALM = 'Bearer realm="meridian-admin"';

export function accessOf(method: string, url: string): Access {
  if (PROBES.has(url)) return 'open';
  if (PAGE.has(url) && (method === 'GET' || method === 'HEAD')) return 'open';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'change';
}

interface Key {
  readonly name: string;
  readonly mayChange: boolean;
  readonly digest: Buffer;
}

/** Fixed-length digests, so neither the comparison time nor its length says how much of a token matched. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The key a presented token is, comparing against every key (no early exit). */
function identify(presented: string, keys: readonly Key[]): Key | undefined {
  const d = digest(presented);
  let found: Key | undefined;
  for (const k of keys) {
    const same = timingSafeEqual(d, k.digest);
    if (same && !found) found = k;
  }
  return found;
}

export interface AdminAuthOptions {
  readonly auth: AdminAuth;
  /** Where who did what goes, whatever level the listener's request log is at. */
  readonly audit: Logger;
}

/**
 * One hook for the whole admin app (RFC 6750 bearer tokens): a change needs an admin token; a read
 * needs an admin or read token once read tokens exist; health probes need none. Every change is
 * logged with who and what; a refused request is logged without the token it carried.
 */
export const adminAuthPlugin = fp<AdminAuthOptions>(
  async (app, { auth, audit }) => {
    const keys: Key[] = [
      ...auth.admin.map((t) => ({ name: t.name, mayChange: true, digest: digest(t.token) })),
      ...auth.read.map((t) => ({ name: t.name, mayChange: false, digest: digest(t.token) })),
    ];
    const routes: RouteAccess[] = [];
    app.decorate('routeAccess', routes);
    app.decorateRequest('caller', 'anonymous');
    app.addHook('onRoute', (route) => {
      const choices = choicesOf(route.schema?.params);
      for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: accessOf(method, route.url), choices });
    });

    const refuse = (req: FastifyRequest, reply: FastifyReply, status: 400 | 401 | 403, challenge: string, reason: string, message: string) => {
      audit.warn({ method: req.method, path: req.url.split('?')[0], route: req.routeOptions.url, ip: req.ip, status, reason }, 'Admin request refused');
      return reply
        .code(status)
        .header('www-authenticate', challenge)
        .send({ statusCode: status, error: status === 400 ? 'Bad Request' : status === 401 ? 'Unauthorized' : 'Forbidden', message });
    };

    app.addHook('onRequest', async (req, reply) => {
      const access = accessOf(req.method, req.routeOptions.url ?? req.url.split('?')[0] ?? '');
      const guarded = access === 'change' ? auth.admin.length > 0 : access === 'read' && auth.read.length > 0;
      if (!guarded) return;
      const header = req.headers.authorization;
      const scheme = header?.match(/^Bearer(?:\s+|$)/i);
      if (!header || !scheme) return refuse(req, reply, 401, REALM, 'no bearer token', 'this request needs a bearer token (Authorization: Bearer TOKEN; the CLI sends the one in --token-file or MERIDIAN_ADMIN_TOKEN_FILE)');
      const presented = header.slice(scheme[0].length).trim();
      if (!BEARER_TOKEN.test(presented))
        return refuse(req, reply, 400, `${REALM}, error="invalid_request"`, 'malformed bearer token', 'the Authorization header does not carry a bearer token');
      const key = identify(presented, keys);
      if (!key) return refuse(req, reply, 401, `${REALM}, error="invalid_token"`, 'unknown token', 'the bearer token is not valid');
      req.caller = key.name;
      if (access === 'change' && !key.mayChange)
        return refuse(req, reply, 403, `${REALM}, error="insufficient_scope"`, `read token ${key.name}`, 'this token may only read; changes need an admin token');
    });

    app.addHook('onResponse', async (req, reply) => {
      const url = req.routeOptions.url;
      // A refusal (the only answer that carries a challenge) was logged when it was made.
      if (!url || accessOf(req.method, url) !== 'change' || reply.hasHeader('www-authenticate')) return;
      const path = req.url.split('?')[0] ?? url;
      audit.info({ caller: req.caller, method: req.method, route: url, object: req.params, status: reply.statusCode, ip: req.ip }, `Admin action ${req.method} ${path} by ${req.caller}: ${reply.statusCode}`);
    });
  },
  { name: 'meridian-admin-auth' },
);
