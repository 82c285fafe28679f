import type { ProxyCanaryStatus, QueryOutcome } from '../../model/canary.js';
import type { PromAnswer } from '../../model/prometheus.js';
import { err } from '../../model/result.js';
import { rolloutRef, type CanaryAction, type CanaryContext, type CanaryEvent, type CanaryOutcome } from './canary-step-types.js';
import { iso, promoted, settle } from './canary-transitions.js';
import { judgeQuery, type QueryPlan } from './prometheus-analysis.js';

/** The key an answer goes by: each distinct query is asked once per interval. */
export const answerKey = (name: string, promql: string): string => `${name}\n${promql}`;

/** Each plan's answers, judged; an answer missing from the map is an error answer, never a crash. */
function judgePlans(plans: readonly QueryPlan[], answers: ReadonlyMap<string, PromAnswer>): QueryOutcome[] {
  const answer = (name: string, promql: string): PromAnswer => answers.get(answerKey(name, promql)) ?? err({ noData: false, error: `Prometheus query "${name}" was not asked` });
  return plans.map((p) =>
    judgeQuery(p.query, p.proxy, {
      value: answer(p.query.name, p.value),
      ...(p.sample === undefined ? {} : { sample: answer(p.query.name, p.sample) }),
      ...(p.baseline === undefined ? {} : { baseline: answer(p.query.name, p.baseline) }),
    }),
  );
}

/**
 * Folds the outcome of the canary's action into the status that recorded it as in flight (pure):
 * the diagnostics saved, the interval's Prometheus answers judged, the promotion made.
 */
export function foldCanary(ctx: CanaryContext, intent: ProxyCanaryStatus, action: CanaryAction, outcome: CanaryOutcome): { readonly status: ProxyCanaryStatus; readonly events: readonly CanaryEvent[] } {
  if (action.kind === 'capture' && outcome.kind === 'capture') {
    const at = iso(ctx.now);
    const diagnostics = [...(intent.diagnostics ?? []), ...outcome.saved.map((d) => ({ proxy: d.proxy, files: [...d.files], ...(d.error ? { error: d.error } : {}), at }))];
    return {
      status: settle(ctx, { ...intent, diagnostics }),
      events: outcome.saved.map((d) => ({ level: 'info', reason: 'DiagnosticsSaved', message: 'Saved canary diagnostics', fields: { proxy: d.proxy, files: d.files, ...(d.error ? { error: d.error } : {}) } })),
    };
  }
  if (action.kind === 'query' && outcome.kind === 'query') {
    // Stopped before every answer came: no verdict; the next pass asks again for the same end.
    if (!outcome.answers) return { status: settle(ctx, intent), events: [] };
    const errors = new Set<string>();
    for (const a of outcome.answers.values()) if (!a.ok && !a.error.noData) errors.add(a.error.error);
    const analysis = { windows: intent.analysis?.windows ?? [], queries: { at: iso(action.at), outcomes: judgePlans(action.plans, outcome.answers) } };
    return {
      status: settle(ctx, { ...intent, analysis }),
      events: errors.size ? [{ level: 'warn', reason: 'AnalysisQueryFailed', message: 'Canary Prometheus queries failed; those checks are Inconclusive this interval', fields: { errors: [...errors].slice(0, 5), count: errors.size } }] : [],
    };
  }
  if (action.kind === 'promote' && outcome.kind === 'promote') {
    const ref = rolloutRef(action.rollout);
    return { status: promoted(ctx, intent, ref), events: [{ level: 'info', reason: 'CanaryPromoted', message: `Canary promoted: ProxyRollout ${ref} ${outcome.created ? 'created' : 'already there'}` }] };
  }
  return { status: settle(ctx, intent), events: [] };
}
