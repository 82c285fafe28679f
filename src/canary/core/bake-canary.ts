import type { ProxyCanaryStatus } from '../../model/canary.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import { sameVersion } from '../../rollout/core/rollout-draft.js';
import { baselineProxies } from './baseline.js';
import { previousVersion } from './canary-runs.js';
import { resolveCanarySpec } from './canary-settings.js';
import type { CanaryAction, CanaryContext, CanaryEvent, CanaryStep } from './canary-step-types.js';
import { hold, iso, promote, rollBack, settle, settled } from './canary-transitions.js';
import { decideCanary } from './decide-canary.js';
import { judgeInterval } from './judge-canary.js';
import { planQueries, queryLabel } from './prometheus-analysis.js';
import { nextInterval, observeAll } from './proxy-window.js';

const KEPT_INTERVALS = 100;

/** Who is judged this interval, and against whom. */
interface Subjects {
  /** Canary proxies still on the build (those moved off it are no sample of it). */
  readonly judged: readonly string[];
  readonly baselines: ReadonlyMap<string, readonly string[]>;
  /** The version the baselines run (what the canary proxies ran before). */
  readonly before: string;
}

function subjects(ctx: CanaryContext, fleet: ProxyFleetSpec, st: ProxyCanaryStatus): Subjects {
  const proxies = st.proxies ?? [];
  const canaries = new Set(proxies);
  const off = new Set((st.offBuild ?? []).map((o) => o.proxy));
  const judged = proxies.filter((p) => !off.has(p));
  const before = previousVersion(st.deploy, fleet, proxies);
  const onBefore = (p: string): boolean => ctx.observations.get(p)?.ready === true && sameVersion(ctx.observations.get(p)?.metrics?.version, before);
  return { judged, before, baselines: new Map(judged.map((p) => [p, baselineProxies(fleet, p, canaries, onBefore)])) };
}

const regionOf = (fleet: ProxyFleetSpec, proxy: string): string => fleet.proxies.find((p) => p.name === proxy)?.region ?? '';

/** The Prometheus queries of the interval ending at `at`, as an action; undefined when the spec has none. */
export function queryAction(ctx: CanaryContext, fleet: ProxyFleetSpec, st: ProxyCanaryStatus, at: number): CanaryAction | undefined {
  const s = resolveCanarySpec(ctx.canary.spec);
  if (!s.prometheus) return undefined;
  const { judged, baselines, before } = subjects(ctx, fleet, st);
  const plans = planQueries({
    queries: s.prometheus.queries,
    canary: judged.map((p) => ({ proxy: p, region: regionOf(fleet, p) })),
    baselineOf: (p) => {
      const names = baselines.get(p) ?? [];
      return names.length ? { proxies: names, region: regionOf(fleet, names[0] ?? '') } : undefined;
    },
    buildVersion: ctx.canary.spec.build.version,
    baselineVersion: before,
    intervalMs: s.intervalMs,
  });
  return { kind: 'query', at, prometheus: s.prometheus, plans };
}

/**
 * A pass while the build bakes: this snapshot joins the interval's windows (in the status); at the
 * interval's end the Prometheus queries are asked (one action), then the interval is judged against
 * same-region baselines and the canary goes on, rolls back, is held, or succeeds.
 */
export function bake(ctx: CanaryContext, fleet: ProxyFleetSpec, st: ProxyCanaryStatus, events: readonly CanaryEvent[]): CanaryStep {
  const spec = ctx.canary.spec;
  if (spec.decision === 'rollback') return rollBack(ctx, fleet, st, 'the operator rolled it back', [], events);
  const s = resolveCanarySpec(spec);
  const nowIso = iso(ctx.now);
  const windows = observeAll(st.analysis?.windows ?? [], ctx.observations);
  const observed: ProxyCanaryStatus = { ...st, analysis: { ...st.analysis, windows } };
  const from = st.intervalStartedAt ?? nowIso;
  const ends = Date.parse(from) + s.intervalMs;
  if (ctx.now < ends) return settled(ctx, observed, events, ends);
  const { judged, baselines } = subjects(ctx, fleet, observed);
  if (!judged.length) return hold(ctx, observed, `no canary proxy runs ${spec.build.version} any more (${(st.offBuild ?? []).map((o) => `${o.proxy} runs ${o.version}`).join(', ')})`, events);
  // The queries are asked before the judgement (their answers are kept in the status); the judge gets them as data.
  const asked = st.analysis?.queries;
  if (s.prometheus && !asked) {
    const action = queryAction(ctx, fleet, observed, ctx.now);
    if (action) return { status: settle(ctx, observed), action, events };
  }
  const to = asked?.at ?? nowIso;
  const byName = new Map(windows.map((w) => [w.proxy, w]));
  const verdict = judgeInterval({
    from,
    to,
    canary: judged.flatMap((p) => byName.get(p) ?? []),
    baselineOf: (p) => (baselines.get(p) ?? []).flatMap((b) => byName.get(b) ?? []),
    checks: s.checks,
    ...(s.prometheus ? { queries: asked?.outcomes ?? [] } : {}),
  });
  const intervals = [...(st.intervals ?? []).slice(-(KEPT_INTERVALS - 1)), verdict];
  const failing = [...verdict.outcomes.filter((o) => o.result === 'Fail').map((o) => `${o.proxy}:${o.check}`), ...(verdict.queries ?? []).filter((o) => o.result === 'Fail').map((o) => `${o.proxy}:${queryLabel(o.query)}`)];
  const said = [...events, { level: 'info' as const, reason: 'CanaryVerdict', message: `Canary interval ${verdict.verdict}`, fields: { verdict: verdict.verdict, failing } }];
  const decision = decideCanary({ intervals, checks: s.checks, queries: s.prometheus?.queries ?? [], bakeEndsAt: Date.parse(st.bakeStartedAt ?? nowIso) + s.bakeMs, now: ctx.now });
  const next: ProxyCanaryStatus = { ...observed, intervals, intervalStartedAt: to, analysis: { windows: nextInterval(windows) } };
  switch (decision.kind) {
    case 'continue':
      return settled(ctx, next, said, Date.parse(to) + s.intervalMs);
    case 'rollback':
      return rollBack(ctx, fleet, next, decision.reason, judged, said);
    case 'hold':
      return hold(ctx, next, decision.reason, said);
    case 'succeed':
      if (s.onSuccess === 'revert') return rollBack(ctx, fleet, next, 'the analysis passed; the spec asks for the previous version back', [], said);
      return promote(ctx, next, 'the analysis passed', said);
  }
}
