import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { assetsDir, loadDashboardAssets, type DashboardAssets } from '../../dashboard/dashboard-assets.js';
import { PROXY_STATES, REGION_STATES } from '../../redirect/core/routing-table.js';
import type { PlanAnswer } from '../../dashboard/rollout-plan-source.js';
import { ErrorResponse } from '../schemas.js';
import type { ApiRoutesOptions } from './api.js';

export interface DashboardRoutesOptions {
  readonly explain: ApiRoutesOptions['explain'];
  /** GET /api/v1/events is served: the page follows it rather than asking for Refresh. */
  readonly live: boolean;
  /** The admin API asks a token for changes: the page's buttons wait for one. */
  readonly changesNeedToken: boolean;
  /** GET /api/v1/history is served: the page draws sparklines (and asks for none otherwise). */
  readonly history?: boolean;
  /** Where the page's files are; default: assetsDir(). Undefined there: `/` says the build lacks them. */
  readonly assetsDir?: string;
  /** GET /api/v1/rollouts/NS/NAME/plan (what `meridian rollout plan` prints); absent: not served. */
  readonly plan?: (namespace: string, name: string) => Promise<PlanAnswer>;
}

export const RoutingResponse = Type.Object({
  observedAt: Type.String(),
  regions: Type.Array(
    Type.Object({
      name: Type.String(),
      state: Type.Union(REGION_STATES.map((s) => Type.Literal(s))),
      proxies: Type.Array(Type.Object({ name: Type.String(), state: Type.Union(PROXY_STATES.map((s) => Type.Literal(s))) })),
    }),
  ),
});
export type RoutingResponse = Static<typeof RoutingResponse>;

/** Any address does: the routing states of every region come with the answer, whoever asks. */
const ANY_CLIENT = '127.0.0.1';

/** Each region's and proxy's routing state (what the map colours); undefined before the first observation. */
export function routingView(explain: ApiRoutesOptions['explain']): RoutingResponse | undefined {
  const explained = explain(ANY_CLIENT);
  if (!explained) return undefined;
  const { observedAt, regions } = explained.explanation;
  return {
    observedAt,
    regions: [...regions].sort((a, b) => a.region.localeCompare(b.region)).map((r) => ({ name: r.region, state: r.state, proxies: r.proxies.map((p) => ({ name: p.name, state: p.state })) })),
  };
}

// The page holds no data (it fetches it with the viewer's token) and may not be framed (clickjacking of its buttons).
const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
const IMMUTABLE = 'public, max-age=31536000, immutable';
const Params = Type.Object({ namespace: Type.String({ maxLength: 253 }), name: Type.String({ maxLength: 253 }) });

/** The operator dashboard at `/`, its assets under /dashboard/<version>/, and GET /api/v1/routing for it. */
export const dashboardRoutes: FastifyPluginAsyncTypebox<DashboardRoutesOptions> = async (app, opts) => {
  const dir = opts.assetsDir ?? assetsDir();
  const assets: DashboardAssets | undefined = dir === undefined ? undefined : await loadDashboardAssets(dir);
  if (!assets) app.log.warn('The dashboard\'s files (src/dashboard/assets) are not in this build: / answers 503');
  const settings = JSON.stringify({ live: opts.live, changesNeedToken: opts.changesNeedToken, history: opts.history === true });
  const page = assets?.index.replace('%SETTINGS%', settings.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`));

  app.get('/', async (_req, reply) => {
    if (page === undefined) return reply.code(503).type('text/plain; charset=utf-8').send('The dashboard\'s files are missing from this build (copy src/dashboard/assets to dist/dashboard/assets). The JSON API is under /api/v1/.\n');
    return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(page);
  });
  app.get(
    '/dashboard/:version/:file',
    { schema: { params: Type.Object({ version: Type.String({ maxLength: 64 }), file: Type.String({ maxLength: 128 }) }) } },
    async (req, reply) => {
      const asset = assets?.version === req.params.version ? assets.files.get(req.params.file) : undefined;
      // An old version's URL is not answered with new content: that would be cached for good under it.
      if (!asset) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no dashboard file ${req.params.version}/${req.params.file}` });
      return reply.headers({ 'cache-control': IMMUTABLE, 'x-content-type-options': 'nosniff' }).type(asset.type).send(asset.body);
    },
  );
  app.get('/api/v1/routing', { schema: { response: { 200: RoutingResponse, 503: ErrorResponse } } }, async (_req, reply) => {
    const routing = routingView(opts.explain);
    return routing ?? reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: 'no fleet has been observed yet' });
  });
  const plan = opts.plan;
  if (plan)
    // The plan is RolloutPlan as `meridian rollout plan --json` prints it: no response schema to keep in step with it.
    app.get('/api/v1/rollouts/:namespace/:name/plan', { schema: { params: Params, response: { 200: Type.Unknown(), 404: ErrorResponse, 409: ErrorResponse } } }, async (req, reply) => {
      const { namespace, name } = req.params;
      const answer = await plan(namespace, name);
      if (answer.kind === 'missing') return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no ProxyRollout ${namespace}/${name}` });
      if (answer.kind === 'invalid') return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: `ProxyRollout ${namespace}/${name} cannot be planned: ${answer.message}` });
      return answer.plan;
    });
};
