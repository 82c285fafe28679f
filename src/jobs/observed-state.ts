import type { Logger } from 'pino';
import type { ProxyFleet } from '../model/fleet.js';
import { keyOf, keyString, type ResourceKey } from '../model/resource.js';
import type { FleetSnapshot, ProxyObservation } from '../model/snapshot.js';
import type { Store } from '../model/store.js';
import { Listeners } from '../runtime/listeners.js';

/**
 * What every instance knows of the fleet: the ProxyFleet it observes and the latest snapshots.
 * Jobs read it at call time and hear of each change.
 */
export interface ObservedState {
  /** The observed ProxyFleet: the first valid one by namespace/name. */
  fleet(): ProxyFleet | undefined;
  /** The latest snapshot of a fleet. */
  readonly snapshotOf: (key: ResourceKey) => FleetSnapshot | undefined;
  /** The observed fleet's latest snapshot. */
  snapshot(): FleetSnapshot | undefined;
  snapshots(): FleetSnapshot[];
  /** A cycle's snapshot (of the fleet it names). */
  recordSnapshot(snapshot: FleetSnapshot): void;
  /** One proxy's observation before its cycle ends. */
  recordObservation(observation: ProxyObservation): void;
  /** A new cycle's snapshot, with its fleet's key. */
  onSnapshot(fn: (key: ResourceKey) => void, signal?: AbortSignal): void;
  /** A proxy left the rotation before its cycle ended. */
  onObservation(fn: () => void, signal?: AbortSignal): void;
  /** The fleet in the store changed (spec or status), and `fleet()` says what it is now. */
  onFleet(fn: () => void, signal?: AbortSignal): void;
}

/** Loads the observed fleet, then follows the store: a valid edit takes effect on the next cycle. */
export async function startObservedState(store: Store, log: Logger): Promise<ObservedState & { close(): void }> {
  let current: ProxyFleet | undefined;
  const snapshots = new Map<string, FleetSnapshot>();
  const snapshotOf = (key: ResourceKey): FleetSnapshot | undefined => snapshots.get(keyString(key));
  const snapshotted = new Listeners<ResourceKey>();
  const observed = new Listeners<void>();
  const fleetChanged = new Listeners<void>();
  const refresh = async (): Promise<void> => {
    current = await observedFleet(store, log);
    fleetChanged.emit();
  };
  await refresh();
  const unwatch = store.watch((key) => {
    if (key.kind === 'ProxyFleet') void refresh().catch((e: unknown) => log.error({ err: e }, 'Could not read the ProxyFleets'));
  });
  return {
    fleet: () => current,
    snapshotOf,
    snapshot: () => current && snapshotOf(keyOf(current)),
    snapshots: () => [...snapshots.values()],
    recordSnapshot(snapshot) {
      if (!snapshot.fleet) return;
      const key: ResourceKey = { kind: 'ProxyFleet', namespace: snapshot.fleet.namespace, name: snapshot.fleet.name };
      snapshots.set(keyString(key), snapshot);
      snapshotted.emit(key);
    },
    // A proxy that stops being ready leaves the rotation now, not when the whole cycle ends.
    recordObservation(o) {
      const key = current && keyOf(current);
      const snapshot = key && snapshotOf(key);
      if (!key || !snapshot || o.ready || !snapshot.proxies.some((p) => p.name === o.name && p.ready)) return;
      snapshots.set(keyString(key), { ...snapshot, proxies: snapshot.proxies.map((p) => (p.name === o.name ? o : p)) });
      observed.emit();
    },
    onSnapshot: (fn, signal) => void snapshotted.add(fn, signal),
    onObservation: (fn, signal) => void observed.add(fn, signal),
    onFleet: (fn, signal) => void fleetChanged.add(fn, signal),
    close: unwatch,
  };
}

/** Meridian observes one ProxyFleet per controller; with several, the first by namespace/name wins and the others are named in the log. */
async function observedFleet(store: Store, log: Logger): Promise<ProxyFleet | undefined> {
  const fleets = [...(await store.list('ProxyFleet'))].sort((a, b) => keyString(keyOf(a)).localeCompare(keyString(keyOf(b))));
  if (fleets.length > 1) log.warn({ ignored: fleets.slice(1).map((f) => keyString(keyOf(f))) }, 'More than one ProxyFleet; observing only the first');
  return fleets[0];
}
