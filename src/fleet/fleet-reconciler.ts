import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { ResourceKey } from '../model/resource.js';
import type { FleetSnapshot } from '../model/snapshot.js';
import type { Store } from '../model/store.js';
import type { Reconciler, ReconcileResult } from '../runtime/reconciler.js';
import { computeFleetStatus } from './core/fleet-status.js';

export interface FleetReconcilerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  /** The latest snapshot for a fleet, from the observer. */
  readonly snapshotOf: (key: ResourceKey) => FleetSnapshot | undefined;
}

/** Keeps each ProxyFleet's status in step with what the observer sees. */
export function createFleetReconciler(deps: FleetReconcilerDeps): Reconciler {
  return {
    kind: 'ProxyFleet',
    async reconcile(key: ResourceKey): Promise<ReconcileResult> {
      const fleet = await deps.store.get('ProxyFleet', key.namespace, key.name);
      if (!fleet) return {};
      const next = computeFleetStatus(fleet, deps.snapshotOf(key), new Date(deps.clock.now()).toISOString());
      if (!isDeepStrictEqual(next, fleet.status)) {
        await deps.store.updateStatus('ProxyFleet', key.namespace, key.name, next);
        deps.log.info({ kind: key.kind, name: key.name, phase: next.phase, ready: next.readyProxies }, 'Updated ProxyFleet status');
      }
      return {};
    },
  };
}
