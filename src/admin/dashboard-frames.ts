import type { ControllerClockReading } from '../model/clock.js';
import type { ProxyCanary } from '../model/canary.js';
import type { ProxyPeering } from '../model/peering.js';
import type { ProxyRollout } from '../model/rollout.js';
import type { PlanAnswer } from '../dashboard/rollout-plan-source.js';
import type { HistoryView } from '../dashboard/session-history.js';
import { canaryView } from './canary-view.js';
import { clockView } from './routes/clock.js';
import { routingView } from './routes/dashboard.js';
import { historyLatest } from './routes/history.js';
import type { ApiRoutesOptions } from './routes/api.js';
import { peeringView } from './peering-view.js';
import { rolloutView } from './rollout-view.js';

/** The `fleet` event: what GET /api/v1/fleet, /routing and /clock answer, and the history's newest points. */
export function fleetFrame(deps: {
  readonly fleets: ApiRoutesOptions['fleets'];
  readonly explain: ApiRoutesOptions['explain'];
  readonly clock: () => ControllerClockReading;
  readonly history?: (() => HistoryView) | undefined;
}): () => Promise<unknown> {
  return async () => ({
    fleets: (await deps.fleets()).fleets,
    routing: routingView(deps.explain) ?? null,
    clock: clockView(deps.clock()),
    history: deps.history ? historyLatest(deps.history()) : null,
  });
}

/**
 * The `rollout` event: GET /api/v1/rollouts, each rollout not started with its plan (GET
 * .../plan's answer, or its refusal as `planError`), as the page would fetch them.
 */
export function rolloutsFrame(deps: { readonly rollouts: () => Promise<readonly ProxyRollout[]>; readonly plan?: ((namespace: string, name: string) => Promise<PlanAnswer>) | undefined }): () => Promise<unknown> {
  return async () => {
    const views = (await deps.rollouts()).map(rolloutView);
    const plan = deps.plan;
    return {
      rollouts: await Promise.all(
        views.map(async (r) => {
          if (!plan || r.startedAt || r.aborted || r.phase === 'Invalid') return r;
          const answer = await plan(r.namespace, r.name);
          if (answer.kind === 'plan') return { ...r, plan: answer.plan };
          return answer.kind === 'invalid' ? { ...r, planError: `ProxyRollout ${r.namespace}/${r.name} cannot be planned: ${answer.message}` } : r;
        }),
      ),
    };
  };
}

/** The `canary` event: GET /api/v1/canaries. */
export function canariesFrame(deps: { readonly canaries: () => Promise<readonly ProxyCanary[]>; readonly invitations?: (() => Promise<ReadonlyMap<string, number> | undefined>) | undefined }): () => Promise<unknown> {
  return async () => {
    const counts = await deps.invitations?.();
    return { canaries: (await deps.canaries()).map((c) => canaryView(c, counts)) };
  };
}

/** The `peering` event: GET /api/v1/peerings. */
export function peeringsFrame(deps: { readonly peerings: () => Promise<readonly ProxyPeering[]> }): () => Promise<unknown> {
  return async () => ({ peerings: (await deps.peerings()).map(peeringView) });
}
