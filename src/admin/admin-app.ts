import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ControllerClockReading } from '../model/clock.js';
import { apiRoutes, type ApiRoutesOptions } from './routes/api.js';
import { clockRoutes } from './routes/clock.js';
import { healthRoutes, type HealthRoutesOptions } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { canaryRoutes, type CanaryRoutesOptions } from './routes/canaries.js';
import { peeringRoutes, type PeeringRoutesOptions } from './routes/peerings.js';
import { rolloutRoutes, type RolloutRoutesOptions } from './routes/rollouts.js';
import { quieterLevel } from '../runtime/log-level.js';
import { adminAuthPlugin, type AdminAuth } from './auth/admin-auth.js';
import { dashboardRoutes, type DashboardRoutesOptions } from './routes/dashboard.js';
import { canariesFrame, fleetFrame, peeringsFrame, rolloutsFrame } from './dashboard-frames.js';
import { eventRoutes } from './routes/events.js';
import type { ChangeFeed } from '../dashboard/change-feed.js';
import { sameOriginPlugin } from '../dashboard/same-origin.js';
import { historyRoutes, type HistoryRoutesOptions } from './routes/history.js';

export interface AdminDeps extends ApiRoutesOptions, HealthRoutesOptions, RolloutRoutesOptions, CanaryRoutesOptions, PeeringRoutesOptions {
  readonly log: Logger;
  readonly registry: Registry;
  /** Bearer tokens (loadAdminAuth); absent: no token is asked for, as for a loopback listener without MERIDIAN_ADMIN_TOKEN_FILE. */
  readonly auth?: AdminAuth;
  /** The clock the controller acts on (GET /api/v1/clock); absent: the wall clock, for an app without a controller behind it. */
  readonly controllerClock?: () => ControllerClockReading;
  /** What changed (snapshots, store writes), streamed to the dashboard at GET /api/v1/events; absent: no stream, the page refreshes by hand. */
  readonly changes?: ChangeFeed;
  /** Sessions over the last hour (GET /api/v1/history, the dashboard's sparklines); absent: 404 there, no sparklines. */
  readonly history?: HistoryRoutesOptions['history'];
  /** A stored rollout's plan (GET /api/v1/rollouts/NS/NAME/plan, the dashboard's timeline before the start); absent: not served. */
  readonly rolloutPlan?: DashboardRoutesOptions['plan'];
}

const wallClock = (): ControllerClockReading => ({ now: Date.now(), simulated: false });

/** The internal admin listener's app: /metrics, /healthz, /readyz, the JSON API. Never listens. */
export async function buildAdminApp(deps: AdminDeps) {
  // Prometheus scrapes and status polls every few seconds: per-request logs would drown the rest.
  const app = Fastify({ loggerInstance: deps.log.child({ listener: 'admin' }, { level: quieterLevel(deps.log, 'warn') }) }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    // A client's mistake is not the server's failure: logged below the listener's level.
    if (status >= 500) request.log.error({ err: error, url: request.url }, 'Admin request failed');
    else request.log.info({ err: error, url: request.url, status }, 'Admin request refused');
    // Internal details stay in the log; clients see them only for their own mistakes.
    return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: status >= 500 ? 'Internal Server Error' : error.message });
  });
  // Before any route, so every route (a new one too) is behind the same check.
  await app.register(adminAuthPlugin, { auth: deps.auth ?? { admin: [], read: [] }, audit: deps.log.child({ component: 'admin-audit' }) });
  await app.register(sameOriginPlugin);
  await app.register(healthRoutes, deps);
  await app.register(metricsRoutes, { registry: deps.registry });
  await app.register(apiRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(clockRoutes, { controllerClock: deps.controllerClock ?? wallClock, prefix: '/api/v1' });
  await app.register(rolloutRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(canaryRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(peeringRoutes, { ...deps, prefix: '/api/v1' });
  await app.register(dashboardRoutes, { explain: deps.explain, live: deps.changes !== undefined, changesNeedToken: (deps.auth?.admin.length ?? 0) > 0, history: deps.history !== undefined, ...(deps.rolloutPlan ? { plan: deps.rolloutPlan } : {}) });
  if (deps.changes) {
    // What the page would fetch after each change, pushed instead: see eventRoutes.
    const frames = {
      fleet: fleetFrame({ fleets: deps.fleets, explain: deps.explain, clock: deps.controllerClock ?? wallClock, history: deps.history }),
      rollout: rolloutsFrame({ rollouts: deps.rollouts, plan: deps.rolloutPlan }),
      canary: canariesFrame({ canaries: deps.canaries, invitations: deps.invitations }),
      peering: peeringsFrame({ peerings: deps.peerings }),
    };
    await app.register(eventRoutes, { changes: deps.changes, frames, prefix: '/api/v1' });
  }
  if (deps.history) await app.register(historyRoutes, { history: deps.history, prefix: '/api/v1' });
  return app;
}
