import type { Logger } from 'pino';
import type { ReadInventory } from '../adapters/teleport/inventory-reader.js';
import type { PeeringActions } from '../adapters/peering/peering-actions.js';
import type { Clock } from '../model/clock.js';
import type { Condition } from '../model/conditions.js';
import type { Proxy } from '../model/fleet.js';
import { eventsAfterWrite, recordNoEvent, type ObjectEvent, type ObjectEventType, type RecordEvent } from '../model/object-events.js';
import type { ProxyPeering, ProxyPeeringStatus } from '../model/peering.js';
import { DEFAULT_NAMESPACE, keyOf, keyString, type ResourceKey } from '../model/resource.js';
import { err, ok, type Result } from '../model/result.js';
import type { FleetSnapshot } from '../model/snapshot.js';
import type { Store } from '../model/store.js';
import { fleetOf } from '../fleet/fleet-of.js';
import { runIntentFirst } from '../runtime/intent-first.js';
import type { Reconciler, ReconcileResult } from '../runtime/reconciler.js';
import type { Drift } from './core/drift.js';
import { foldOutcome, type FoldContext } from './core/fold-outcome.js';
import { absorbRead, type HeldInventory, type RawRead } from './core/inventory-read.js';
import { intentOf, type PeeringAction, type PeeringOutcome } from './core/peering-action.js';
import type { PeeringEvent } from './core/peering-event.js';
import { resolvePeeringSpec } from './core/peering-settings.js';
import { PlanCache } from './core/plan-cache.js';
import { stepPeering, type PeeringContext } from './core/step-peering.js';

/** Sends one proxy its peer listener through its upgrade method (action `configure`). */
export type ConfigureProxy = (req: { readonly id: string; readonly owner: string; readonly proxy: Proxy; readonly listenAddr: string; readonly publicAddr: string }, signal: AbortSignal) => Promise<Result<unknown, string>>;

export interface PeeringReconcilerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly snapshotOf: (fleet: ResourceKey) => FleetSnapshot | undefined;
  /** Proxies out of rotation (cordoned, held by a rollout or canary): never link targets. */
  readonly outOfRotation: () => ReadonlySet<string>;
  readonly readInventory: ReadInventory;
  readonly actions: PeeringActions;
  readonly configureProxy: ConfigureProxy;
  readonly onInventoryError?: (peering: string) => void;
  /** Drift found by an observation: counted once per observation and kind. */
  readonly onDrift?: (peering: string, what: Drift['what']) => void;
  /** Kubernetes Events for the notable steps (the acting instance's); none when absent. */
  readonly recordEvent?: RecordEvent;
}

/** The passes' events that become Kubernetes Events (the rest stay in the log), by reason. */
const EVENT_TYPES: Readonly<Record<string, ObjectEventType>> = {
  AllowListPublished: 'Normal',
  ClusterNetworkingSet: 'Normal',
  PeerListenerSet: 'Normal',
  PeerLinkRemoved: 'Normal',
  Drift: 'Warning',
  ApplyFailed: 'Warning',
  PeerListenerNotSet: 'Warning',
  InventoryNotRead: 'Warning',
};

function objectEvents(events: readonly PeeringEvent[]): ObjectEvent[] {
  return events.flatMap((e) => {
    const type = EVENT_TYPES[e.reason];
    if (!type) return [];
    // The fields say which proxy, link or error: the Event has only its message.
    const fields = Object.entries(e.fields ?? {}).filter(([k]) => k !== 'redo');
    return [{ type, reason: e.reason, message: fields.length ? `${e.message} (${fields.map(([k, v]) => `${k}: ${v}`).join(', ')})` : e.message }];
  });
}

/** Peer dial errors grew: said when the condition turns False or its message changes (the steps judge it into the condition only). */
function dialErrors(before: ProxyPeeringStatus, after: ProxyPeeringStatus): ObjectEvent[] {
  const of = (s: ProxyPeeringStatus): Condition | undefined => s.conditions?.find((c) => c.type === 'PeerDialsClean');
  const was = of(before);
  const now = of(after);
  if (now?.status !== 'False' || (was?.status === 'False' && was.message === now.message)) return [];
  return [{ type: 'Warning', reason: now.reason, message: now.message }];
}

/** The heavy input of one ProxyPeering kept between passes: the last good inventory. Everything decided is in status. */
interface Memory {
  held?: HeldInventory;
  readonly plans: PlanCache;
}

/**
 * Drives each ProxyPeering through its pure steps (stepPeering): each pass reads the inventory or
 * makes one outside change (intent written first, outcome folded back). Status holds everything
 * the next pass needs; memory holds only the inventory, read again after a restart.
 */
export function createPeeringReconciler(deps: PeeringReconcilerDeps): Reconciler {
  const { store, clock } = deps;
  const recordEvent = deps.recordEvent ?? recordNoEvent;
  const memory = new Map<string, Memory>();

  /** Nodes first: a proxy that joins between the reads is then in the second one too. */
  async function read(p: ProxyPeering, signal: AbortSignal): Promise<RawRead> {
    const at = clock.now();
    const opts = { timeoutMs: resolvePeeringSpec(p.spec).timeoutMs, signal };
    const nodes = await deps.readInventory(p.spec.inventory.nodes, opts);
    if (!nodes.ok) return { at, nodes };
    const proxies = await deps.readInventory(p.spec.inventory.proxies, opts);
    if (!proxies.ok) return { at, nodes, proxies };
    const source = p.spec.apply?.clusterNetworking?.read;
    const cluster = source ? await deps.readInventory(source, opts) : undefined;
    const target = p.spec.apply?.allowList;
    const allowListGeneration = target ? await deps.actions.readAllowListGeneration(target, signal) : undefined;
    return { at, nodes, proxies, ...(cluster ? { cluster } : {}), ...(allowListGeneration ? { allowListGeneration } : {}) };
  }

  return {
    kind: 'ProxyPeering',
    async reconcile(key: ResourceKey, signal: AbortSignal): Promise<ReconcileResult> {
      const p = await store.get('ProxyPeering', key.namespace, key.name);
      const k = keyString(key);
      if (!p) {
        memory.delete(k);
        return {};
      }
      const owner = `${key.namespace}/${key.name}`;
      const log = deps.log.child({ kind: 'ProxyPeering', name: owner });
      const emit = (events: readonly PeeringEvent[]): void => {
        for (const e of events) {
          if (e.warn) log.warn({ reason: e.reason, ...e.fields }, e.message);
          else log.info({ reason: e.reason, ...e.fields }, e.message);
          if (e.drift) deps.onDrift?.(owner, e.drift);
          if (e.reason === 'InventoryNotRead') deps.onInventoryError?.(owner);
        }
      };
      const mem = memory.get(k) ?? { plans: new PlanCache() };
      memory.set(k, mem);
      const fleet = await fleetOf(store, p);
      const fleetProxies = fleet.ok ? fleet.value.spec.proxies : [];
      const snapshot = fleet.ok ? deps.snapshotOf(keyOf(fleet.value)) : undefined;
      const outOfRotation = deps.outOfRotation();
      const foldContext = (): FoldContext => ({ settings: resolvePeeringSpec(p.spec), fleet: fleetProxies.map((x) => x.name), now: clock.now() });
      let status: ProxyPeeringStatus = p.status ?? {};
      // A read changes nothing outside: a pass that reads goes on to decide on what it read (one change at most).
      for (let reads = 0; ; reads++) {
        const ctx: PeeringContext = { peering: owner, generation: p.metadata.generation ?? 0, spec: p.spec, status, fleet: fleet.ok ? ok(fleet.value.spec) : fleet, snapshot, outOfRotation, inventory: mem.held, now: clock.now() };
        const step = stepPeering(ctx);
        if (step.action?.kind === 'read' && reads > 0) return { requeueAfterMs: 0 };
        emit(step.events);
        const said = eventsAfterWrite((e) => recordEvent(key, e));
        said.add(objectEvents(step.events));
        const r = await runIntentFirst<ProxyPeeringStatus, PeeringAction, PeeringOutcome>({
          stored: status,
          step,
          // Nothing to record before a read.
          withIntent: (next, action) => (action.kind === 'read' ? next : { ...next, inFlight: intentOf(action, new Date(clock.now()).toISOString()) }),
          perform: async (action) => {
            if (action.kind === 'read') {
              const raw = await read(p, signal);
              const absorbed = absorbRead(raw, fleetProxies, resolvePeeringSpec(p.spec).regionLabel, mem.held, mem.plans);
              if (absorbed.held) mem.held = absorbed.held;
              return { kind: 'read', read: absorbed.outcome };
            }
            const cn = p.spec.apply?.clusterNetworking;
            if (action.kind === 'clusterNetworking') return { kind: 'change', result: cn ? await deps.actions.applyClusterNetworking(cn, action.id, action.write, signal) : err('no clusterNetworking in the spec') };
            if (action.kind === 'configure') return { kind: 'change', result: await deps.configureProxy({ id: action.id, owner, proxy: action.proxy, listenAddr: action.listenAddr, publicAddr: action.publicAddr }, signal) };
            const target = p.spec.apply?.allowList;
            return { kind: 'change', result: target ? await deps.actions.publishAllowList(target, action.doc, signal) : err('no allow-list target in the spec') };
          },
          fold: (intent, action, outcome) => {
            const folded = foldOutcome(intent, action, outcome, foldContext());
            emit(folded.events);
            said.add(objectEvents(folded.events));
            return folded.status;
          },
          persist: async (next, before) => {
            await store.updateStatus('ProxyPeering', p.metadata.namespace ?? DEFAULT_NAMESPACE, p.metadata.name, next);
            said.add(dialErrors(before, next));
            said.written();
          },
          now: () => clock.now(),
        });
        said.written();
        status = r.status;
        if (step.action?.kind !== 'read') return r.requeueAfterMs === undefined ? {} : { requeueAfterMs: r.requeueAfterMs };
      }
    },
  };

}
