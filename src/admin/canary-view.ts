import type { ProxyCanary } from '../model/canary.js';
import { DEFAULT_NAMESPACE } from '../model/resource.js';
import { resolveCanarySpec } from '../canary/core/canary-settings.js';
import { VERSION_SKEW_CONDITION } from '../rollout/core/version-skew-gate.js';
import type { CanaryView } from './canary-schemas.js';
import { MAX_INVITATIONS_PER_CANARY } from '../redirect/invitation-count.js';
import { rolloutProxyView } from './rollout-view.js';

/**
 * The API's view of a canary: the spec essentials and everything the controller decided; with
 * `invitations` (active invitations by canary name: invitations are on), who opted in.
 */
export function canaryView(c: ProxyCanary, invitations?: ReadonlyMap<string, number>): CanaryView {
  const active = invitations && (invitations.get(c.metadata.name) ?? 0);
  const st = c.status ?? {};
  const skew = st.conditions?.find((x) => x.type === VERSION_SKEW_CONDITION);
  return {
    namespace: c.metadata.namespace ?? DEFAULT_NAMESPACE,
    name: c.metadata.name,
    build: c.spec.build.version,
    debug: c.spec.build.debug ?? false,
    traffic: resolveCanarySpec(c.spec).optInOnly ? 'optInOnly' : 'normal',
    ...(active !== undefined ? { optIn: { activeInvitations: active, atLeast: active >= MAX_INVITATIONS_PER_CANARY } } : {}),
    paused: c.spec.paused ?? false,
    ...(st.phase ? { phase: st.phase } : {}),
    ...(st.message ? { message: st.message } : {}),
    ...(st.startedAt ? { startedAt: st.startedAt } : {}),
    ...(st.bakeStartedAt ? { bakeStartedAt: st.bakeStartedAt } : {}),
    proxies: [...(st.proxies ?? [])],
    deploy: (st.deploy?.proxies ?? []).map((p) => rolloutProxyView(p)),
    revert: (st.revert?.proxies ?? []).map((p) => rolloutProxyView(p)),
    ...(st.decision ? { decision: { ...st.decision } } : {}),
    ...(st.promotedRollout ? { promotedRollout: st.promotedRollout } : {}),
    ...(st.offBuild?.length ? { offBuild: st.offBuild.map((o) => ({ ...o })) } : {}),
    ...(skew ? { versionSkew: { status: skew.status, reason: skew.reason, message: skew.message } } : {}),
    diagnostics: (st.diagnostics ?? []).map((d) => ({ proxy: d.proxy, files: [...d.files], ...(d.error ? { error: d.error } : {}), at: d.at })),
    intervals: (st.intervals ?? []).map((i) => ({ from: i.from, to: i.to, verdict: i.verdict, outcomes: i.outcomes.map((o) => ({ ...o })), ...(i.queries ? { queries: i.queries.map((o) => ({ ...o })) } : {}) })),
  };
}
