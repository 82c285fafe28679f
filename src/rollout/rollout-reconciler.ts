import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { RunHook, SendNotice } from '../model/actuators.js';
import type { Clock } from '../model/clock.js';
import { setCondition } from '../model/conditions.js';
import { formatPath } from '../model/field-error.js';
import { recordNoEvent, type RecordEvent } from '../model/object-events.js';
import type { ProxyFleet } from '../model/fleet.js';
import { DEFAULT_NAMESPACE, keyOf, type ResourceKey } from '../model/resource.js';
import type { ProxyRollout, ProxyRolloutStatus } from '../model/rollout.js';
import { rolloutFleetErrors } from '../model/rollout-rules.js';
import type { FleetSnapshot, ProxyObservation } from '../model/snapshot.js';
import type { Store } from '../model/store.js';
import { fleetOf } from '../fleet/fleet-of.js';
import type { Reconciler, ReconcileResult } from '../runtime/reconciler.js';
import { createRolloutEngine } from './rollout-engine.js';
import type { RolloutMetrics } from './rollout-metrics.js';
import { authVersionOf } from './core/version-skew-gate.js';

export interface RolloutReconcilerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly snapshotOf: (fleet: ResourceKey) => FleetSnapshot | undefined;
  readonly sendNotice: SendNotice;
  readonly runHook: RunHook;
  readonly metrics?: RolloutMetrics;
  /** Proxies out of rotation for any run (rollouts and canaries); this run's own are told apart by its status. */
  readonly outOfRotation?: () => ReadonlySet<string>;
  /** Proxies live canaries hold (deployed or being deployed), with who holds them: rollouts skip them. */
  readonly claimedByCanaries?: () => ReadonlyMap<string, string>;
  /** Kubernetes Events for the notable steps (the acting instance's); none when absent. */
  readonly recordEvent?: RecordEvent;
}

/**
 * Drives each ProxyRollout: checks it against its fleet before the start, lets one rollout run
 * per fleet, then moves it one engine step per pass (see rollout-engine.ts for crash safety).
 */
export function createRolloutReconciler(deps: RolloutReconcilerDeps): Reconciler {
  const { store, clock } = deps;
  const recordEvent = deps.recordEvent ?? recordNoEvent;

  const engine = createRolloutEngine({ clock, sendNotice: deps.sendNotice, runHook: deps.runHook, recordEvent, ...(deps.metrics ? { onNotice: deps.metrics.onNotice, onTransition: deps.metrics.onTransition } : {}) });

  async function persist(r: ProxyRollout, status: ProxyRolloutStatus): Promise<void> {
    const ns = r.metadata.namespace ?? DEFAULT_NAMESPACE;
    if (isDeepStrictEqual(status, r.status ?? {})) return;
    await store.updateStatus('ProxyRollout', ns, r.metadata.name, status);
  }

  return {
    kind: 'ProxyRollout',
    async reconcile(key: ResourceKey, signal: AbortSignal): Promise<ReconcileResult> {
      const r = await store.get('ProxyRollout', key.namespace, key.name);
      if (!r) return {};
      const name = `${key.namespace}/${key.name}`;
      const log = deps.log.child({ kind: 'ProxyRollout', name });
      const fleet = await fleetOf(store, r);
      const generation = r.metadata.generation ?? 0;
      // The spec is checked against the fleet before the start; once running, the plan in the status rules.
      const problems = !fleet.ok ? [fleet.error] : r.status?.startedAt ? [] : rolloutFleetErrors(r.spec, fleet.value.spec).map((e) => `${formatPath(e.path)}: ${e.message}`);
      if (!fleet.ok || problems.length) {
        // Invalid: say so and wait for an edit (of the rollout or the fleet); nothing moves.
        const message = problems.join('; ');
        const now = new Date(clock.now()).toISOString();
        const conditions = setCondition(r.status?.conditions ?? [], { type: 'Ready', status: 'False', reason: 'InvalidSpec', message, observedGeneration: generation }, now);
        const { inFlight: _, ...kept } = r.status ?? {};
        const turned = r.status?.phase !== 'Invalid' || r.status.message !== message;
        if (r.status?.phase !== 'Invalid') log.warn({ problems }, 'ProxyRollout is invalid');
        await persist(r, { ...kept, observedGeneration: generation, phase: 'Invalid', message, conditions });
        if (turned) recordEvent(key, { type: 'Warning', reason: 'InvalidSpec', message });
        return {};
      }
      // One rollout at a time per fleet: two would each keep their own maxUnavailable and together break it.
      if (!r.status?.startedAt && !r.spec.aborted) {
        const busy = await runningRolloutOf(store, fleet.value, r);
        if (busy) {
          const message = `Waiting for rollout ${busy} of the same fleet to finish`;
          const now = new Date(clock.now()).toISOString();
          const conditions = setCondition(r.status?.conditions ?? [], { type: 'Progressing', status: 'Unknown', reason: 'WaitingForRollout', message, observedGeneration: generation }, now);
          await persist(r, { ...(r.status ?? {}), observedGeneration: generation, phase: 'Pending', message, conditions });
          return {};
        }
      }
      const snapshot = deps.snapshotOf(keyOf(fleet.value));
      const observations = new Map<string, ProxyObservation>((snapshot?.proxies ?? []).map((o) => [o.name, o]));
      const auth = authVersionOf(fleet.value.spec, snapshot);
      let stored = r;
      const result = await engine.step(
        {
          name,
          key,
          generation,
          spec: r.spec,
          status: r.status ?? {},
          fleet: fleet.value.spec,
          observations,
          ...(deps.outOfRotation ? { outOfRotation: deps.outOfRotation() } : {}),
          ...(deps.claimedByCanaries ? { claimedByCanaries: deps.claimedByCanaries() } : {}),
          ...(auth ? { auth } : {}),
          log,
          persist: async (status) => {
            await persist(stored, status);
            stored = { ...stored, status };
          },
        },
        signal,
      );
      return result.requeueAfterMs === undefined ? {} : { requeueAfterMs: result.requeueAfterMs };
    },
  };
}

/** Another rollout of the same fleet that has started and not finished, by name. */
async function runningRolloutOf(store: Store, fleet: ProxyFleet, r: ProxyRollout): Promise<string | undefined> {
  const ns = r.metadata.namespace ?? DEFAULT_NAMESPACE;
  for (const o of await store.list('ProxyRollout')) {
    if (o.metadata.name === r.metadata.name && (o.metadata.namespace ?? DEFAULT_NAMESPACE) === ns) continue;
    if (!o.status?.startedAt || ['Completed', 'Failed', 'Aborted'].includes(o.status.phase ?? '')) continue;
    const f = await fleetOf(store, o);
    if (f.ok && f.value.metadata.name === fleet.metadata.name && (f.value.metadata.namespace ?? DEFAULT_NAMESPACE) === (fleet.metadata.namespace ?? DEFAULT_NAMESPACE))
      return `${o.metadata.namespace ?? DEFAULT_NAMESPACE}/${o.metadata.name}`;
  }
  return undefined;
}
