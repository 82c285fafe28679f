import { fleetOf } from '../fleet/fleet-of.js';
import type { FieldError } from '../model/field-error.js';
import { formatPath } from '../model/field-error.js';
import { keyOf, type ResourceKey } from '../model/resource.js';
import type { FleetSnapshot } from '../model/snapshot.js';
import type { Store } from '../model/store.js';
import { planRolloutChecked, type RolloutPlan } from '../rollout/core/plan-rollout.js';
import { authVersionOf } from '../rollout/core/version-skew-gate.js';

export type PlanAnswer = { readonly kind: 'plan'; readonly plan: RolloutPlan } | { readonly kind: 'missing' } | { readonly kind: 'invalid'; readonly message: string };

export interface PlanSourceDeps {
  readonly store: Store;
  readonly snapshotOf: (key: ResourceKey) => FleetSnapshot | undefined;
  /** The controller's clock (the simulator's in the demo). */
  readonly now: () => number;
  readonly scrapeIntervalMs: number;
}

const problemText = (errors: readonly FieldError[]): string => errors.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; ');

/**
 * The plan `meridian rollout plan --server` prints for a stored rollout: its fleet from the store,
 * sessions, versions and the Auth Service's version from the latest snapshot, now on the controller's clock.
 */
export function rolloutPlanSource(deps: PlanSourceDeps): (namespace: string, name: string) => Promise<PlanAnswer> {
  return async (namespace, name) => {
    const rollout = await deps.store.get('ProxyRollout', namespace, name);
    if (!rollout) return { kind: 'missing' };
    const fleet = await fleetOf(deps.store, rollout);
    if (!fleet.ok) return { kind: 'invalid', message: fleet.error };
    const snapshot = deps.snapshotOf(keyOf(fleet.value));
    const sessions = new Map<string, number>();
    const versions = new Map<string, string>();
    for (const o of snapshot?.proxies ?? []) {
      // As the CLI does: a proxy never read has no count (the plan flags it), not 0.
      if (o.lastSuccessAt) sessions.set(o.name, o.sessionsTotal);
      if (o.metrics?.version) versions.set(o.name, o.metrics.version);
    }
    const auth = authVersionOf(fleet.value.spec, snapshot);
    const plan = planRolloutChecked({ rollout: `${namespace}/${name}`, spec: rollout.spec, fleet: fleet.value.spec, sessions, versions, now: deps.now(), scrapeIntervalMs: deps.scrapeIntervalMs, ...(auth ? { auth } : {}) });
    return plan.ok ? { kind: 'plan', plan: plan.value } : { kind: 'invalid', message: problemText(plan.error) };
  };
}
