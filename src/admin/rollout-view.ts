import { DEFAULT_NAMESPACE } from '../model/resource.js';
import type { ProxyRollout, ProxyRolloutProxyStatus } from '../model/rollout.js';
import { drainDeadlineMs as drainDeadlineOf } from '../rollout/core/rollout-settings.js';
import { formatLocal } from '../rollout/core/zoned-time.js';
import type { RolloutProxyView, RolloutView } from './rollout-schemas.js';

/** One proxy's step in a rollout (or a canary's deploy or revert), as the API shows it; with `drainDeadlineMs`, when its drain is cut short. */
export function rolloutProxyView(p: ProxyRolloutProxyStatus, options: { readonly drainDeadlineMs?: number } = {}): RolloutProxyView {
  const deadline = p.outAt && options.drainDeadlineMs !== undefined ? Date.parse(p.outAt) + options.drainDeadlineMs : Number.NaN;
  return {
    name: p.name,
    region: p.region,
    wave: p.wave,
    step: p.step,
    ...(p.fromVersion ? { fromVersion: p.fromVersion } : {}),
    ...(p.outAt ? { outAt: p.outAt } : {}),
    ...(p.sessionsAtOut !== undefined ? { sessionsAtOut: p.sessionsAtOut } : {}),
    ...(p.takeOuts !== undefined ? { takeOuts: p.takeOuts } : {}),
    ...(Number.isFinite(deadline) ? { drainDeadlineAt: new Date(deadline).toISOString() } : {}),
    ...(p.drainedAt ? { drainedAt: p.drainedAt } : {}),
    ...(p.sessionsCut !== undefined ? { sessionsCut: p.sessionsCut } : {}),
    ...(p.doneAt ? { doneAt: p.doneAt } : {}),
    ...(p.message ? { message: p.message } : {}),
    ...(p.waitingFor ? { waitingFor: { ...p.waitingFor } } : {}),
    ...(p.driftedTo ? { driftedTo: p.driftedTo } : {}),
  };
}

/** The API's view of a rollout: spec essentials and the status the controller keeps. */
export function rolloutView(r: ProxyRollout): RolloutView {
  const st = r.status ?? {};
  const drainDeadlineMs = drainDeadlineOf(r.spec);
  const zones = new Map((st.windows ?? []).flatMap((w) => (w.timeZone ? [[w.region, w.timeZone] as const] : [])));
  return {
    namespace: r.metadata.namespace ?? DEFAULT_NAMESPACE,
    name: r.metadata.name,
    version: r.spec.version,
    paused: r.spec.paused ?? false,
    aborted: r.spec.aborted ?? false,
    ...(st.phase ? { phase: st.phase } : {}),
    ...(st.message ? { message: st.message } : {}),
    ...(st.startedAt ? { startedAt: st.startedAt } : {}),
    ...(st.finishedAt ? { finishedAt: st.finishedAt } : {}),
    ...(st.currentWave !== undefined ? { currentWave: st.currentWave } : {}),
    waves: new Set((st.proxies ?? []).map((p) => p.wave)).size,
    ...(st.sessionsCut !== undefined ? { sessionsCut: st.sessionsCut } : {}),
    windows: (st.windows ?? []).map((w) => ({
      ...w,
      ...(w.timeZone ? { startLocal: formatLocal(Date.parse(w.startAt), w.timeZone), endLocal: formatLocal(Date.parse(w.endAt), w.timeZone) } : {}),
    })),
    conditions: (st.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
    proxies: (st.proxies ?? []).map((p) => rolloutProxyView(p, { drainDeadlineMs })),
    notices: (st.notices ?? []).map((n) => ({
      id: n.id,
      region: n.region,
      leadTime: n.leadTime,
      windowStartAt: n.windowStartAt,
      dueAt: n.dueAt,
      ...(zones.has(n.region) ? { dueLocal: formatLocal(Date.parse(n.dueAt), zones.get(n.region) ?? 'UTC') } : {}),
      ...(n.givenAt ? { givenAt: n.givenAt } : {}),
      message: n.message,
      channels: n.channels.map((c) => ({ name: c.name, result: c.result, attempts: c.attempts, at: c.at, ...(c.error ? { error: c.error } : {}) })),
    })),
  };
}
