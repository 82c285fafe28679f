import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { ProxyCanaryStatus } from '../model/canary.js';
import type { Clock } from '../model/clock.js';
import { eventsAfterWrite, recordNoEvent, type ObjectEvent, type ObjectEventType, type RecordEvent } from '../model/object-events.js';
import type { Proxy } from '../model/fleet.js';
import type { PromAnswer, QueryPrometheus } from '../model/prometheus.js';
import { err, ok } from '../model/result.js';
import { DEFAULT_NAMESPACE, keyOf, type ResourceKey } from '../model/resource.js';
import type { FleetSnapshot, ProxyObservation } from '../model/snapshot.js';
import type { ProxyRolloutStatus } from '../model/rollout.js';
import type { Store } from '../model/store.js';
import { fleetOf } from '../fleet/fleet-of.js';
import type { RolloutEngine } from '../rollout/rollout-engine.js';
import { authVersionOf } from '../rollout/core/version-skew-gate.js';
import type { Reconciler, ReconcileResult } from '../runtime/reconciler.js';
import { runIntentFirst } from '../runtime/intent-first.js';
import { intentOf, type CanaryAction, type CanaryContext, type CanaryEvent, type CanaryOutcome, type CanaryRunPass } from './core/canary-step-types.js';
import { foldRun } from './core/canary-transitions.js';
import { answerKey, foldCanary } from './core/fold-canary.js';
import type { ResolvedPrometheus } from './core/prometheus-analysis.js';
import { stepCanary } from './core/step-canary.js';

/** Saves what a failing canary proxy shows before it is taken back (goroutine dump, heap profile). */
export type CaptureDiagnostics = (
  canary: string,
  proxy: Proxy,
  /** `id` is the same when a capture is made again after an interrupted pass. */
  what: { readonly pprof: boolean; readonly command?: readonly string[]; readonly id: string },
  signal?: AbortSignal,
) => Promise<{ readonly files: readonly string[]; readonly error?: string }>;

export interface CanaryReconcilerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly snapshotOf: (fleet: ResourceKey) => FleetSnapshot | undefined;
  readonly engine: RolloutEngine;
  readonly captureDiagnostics: CaptureDiagnostics;
  /**
   * Runs the PromQL of `spec.analysis.prometheus` (the adapter in src/adapters/prometheus). Absent:
   * a canary with queries gets them Inconclusive, saying no client is configured.
   */
  readonly queryPrometheus?: QueryPrometheus;
  /** Proxies held out of rotation by every run (rollouts and canaries); this run's own are told apart by its status. */
  readonly outOfRotation?: () => ReadonlySet<string>;
  /** Kubernetes Events for the notable steps (the acting instance's); none when absent. */
  readonly recordEvent?: RecordEvent;
}

function logEvents(log: Logger, events: readonly CanaryEvent[]): void {
  for (const e of events) log[e.level]({ reason: e.reason, ...e.fields }, e.message);
}

/** The canary's events that become Kubernetes Events, by reason (the rest stay in the log), with their type. */
const EVENT_TYPES: Readonly<Record<string, ObjectEventType | ((e: CanaryEvent) => ObjectEventType)>> = {
  CanaryStarted: 'Normal',
  CanaryDeployed: 'Normal',
  CanaryVerdict: (e) => (e.fields?.['verdict'] === 'Pass' ? 'Normal' : 'Warning'),
  CanaryRollingBack: 'Warning',
  CanaryRolledBack: 'Warning',
  CanaryHeld: 'Warning',
  CanaryPromoted: 'Normal',
  VersionSkew: 'Warning',
  AnalysisQueryFailed: 'Warning',
  CanaryProxyOffBuild: 'Warning',
};

function objectEvents(events: readonly CanaryEvent[]): ObjectEvent[] {
  return events.flatMap((e) => {
    const type = EVENT_TYPES[e.reason];
    if (!type) return [];
    // The verdict's failing checks and the rollback's cause are in the fields, not the message.
    const failing = e.fields?.['failing'];
    const why = e.fields?.['cause'];
    const detail = Array.isArray(failing) && failing.length ? `: failing ${failing.join(', ')}` : typeof why === 'string' ? `: ${why}` : '';
    return [{ type: typeof type === 'function' ? type(e) : type, reason: e.reason, message: `${e.message}${detail}` }];
  });
}

/**
 * Drives each ProxyCanary: reads the store and the snapshot, asks the pure core (stepCanary) what
 * to do, and makes it: its own actions intent first (runIntentFirst), its deploy and revert runs'
 * steps through the rollout engine. Nothing is kept in memory between passes.
 */
export function createCanaryReconciler(deps: CanaryReconcilerDeps): Reconciler {
  const { store, clock } = deps;
  const recordEvent = deps.recordEvent ?? recordNoEvent;

  /** One query through the injected client; a missing client or a throw is an answer too, never a crash. */
  async function queryOnce(prom: ResolvedPrometheus, name: string, promql: string, at: number, signal: AbortSignal): Promise<PromAnswer> {
    const where = `Prometheus query "${name}"`;
    if (!deps.queryPrometheus) return err({ noData: false, error: `${where}: no Prometheus client is configured in this controller, so spec.analysis.prometheus is not queried` });
    try {
      return await deps.queryPrometheus({ address: prom.address, timeoutMs: prom.timeoutMs, ...(prom.bearerTokenFile ? { bearerTokenFile: prom.bearerTokenFile } : {}), name, promql, at }, signal);
    } catch (e) {
      return err({ noData: false, error: `${where}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  async function perform(canary: string, action: CanaryAction, signal: AbortSignal): Promise<CanaryOutcome> {
    switch (action.kind) {
      case 'capture': {
        const what = { ...action.what, id: action.id };
        // All proxies at once: a hung build must not hold the rollback back once per proxy.
        const saved = await Promise.all(action.proxies.map((proxy) => deps.captureDiagnostics(canary, proxy, what, signal)));
        return { kind: 'capture', saved: action.proxies.map((p, i) => ({ proxy: p.name, files: saved[i]?.files ?? [], ...(saved[i]?.error ? { error: saved[i]?.error } : {}) })) };
      }
      case 'query': {
        // Each distinct query once, all at once (the client bounds how many are in flight).
        const asked = new Map<string, Promise<PromAnswer>>();
        for (const p of action.plans)
          for (const promql of [p.value, p.sample, p.baseline]) {
            if (promql === undefined) continue;
            const id = answerKey(p.query.name, promql);
            if (!asked.has(id)) asked.set(id, queryOnce(action.prometheus, p.query.name, promql, action.at, signal));
          }
        const answers = new Map<string, PromAnswer>();
        for (const [id, answer] of asked) answers.set(id, await answer);
        return signal.aborted ? { kind: 'query' } : { kind: 'query', answers };
      }
      case 'promote': {
        const r = action.rollout;
        const existing = await store.get('ProxyRollout', r.metadata.namespace ?? DEFAULT_NAMESPACE, r.metadata.name);
        if (!existing) await store.create(r);
        return { kind: 'promote', created: !existing };
      }
    }
  }

  return {
    kind: 'ProxyCanary',
    async reconcile(key: ResourceKey, signal: AbortSignal): Promise<ReconcileResult> {
      const c = await store.get('ProxyCanary', key.namespace, key.name);
      if (!c) return {};
      const name = `${key.namespace}/${key.name}`;
      const log = deps.log.child({ kind: 'ProxyCanary', name });
      const stored: ProxyCanaryStatus = c.status ?? {};
      // Finished: not even the fleet is read.
      if (stored.phase === 'Promoted' || stored.phase === 'RolledBack') return {};
      const fleet = await fleetOf(store, c);
      const snapshot = fleet.ok ? deps.snapshotOf(keyOf(fleet.value)) : undefined;
      const auth = fleet.ok ? authVersionOf(fleet.value.spec, snapshot) : undefined;
      const outOfRotation = deps.outOfRotation?.();
      const ctx: CanaryContext = {
        canary: c,
        fleet: fleet.ok ? ok(fleet.value.spec) : err(fleet.error),
        observations: new Map<string, ProxyObservation>((snapshot?.proxies ?? []).map((o) => [o.name, o])),
        ...(outOfRotation ? { outOfRotation } : {}),
        ...(auth ? { auth } : {}),
        now: clock.now(),
      };
      const step = stepCanary(ctx);
      logEvents(log, step.events);
      const said = eventsAfterWrite((e) => recordEvent(key, e));
      said.add(objectEvents(step.events));
      const persist = async (next: ProxyCanaryStatus): Promise<void> => {
        await store.updateStatus('ProxyCanary', key.namespace, key.name, next);
        said.written();
      };
      if (step.run) return runStep(ctx, step.run, key, stored, persist, said, log, signal);
      const r = await runIntentFirst<ProxyCanaryStatus, CanaryAction, CanaryOutcome>({
        stored,
        step,
        withIntent: (status, action) => ({ ...status, inFlight: intentOf(action) }),
        perform: (action) => perform(name, action, signal),
        fold: (intent, action, outcome) => {
          const folded = foldCanary({ ...ctx, now: clock.now() }, intent, action, outcome);
          logEvents(log, folded.events);
          said.add(objectEvents(folded.events));
          return folded.status;
        },
        persist,
        now: () => clock.now(),
      });
      said.written();
      return r.requeueAfterMs === undefined ? {} : { requeueAfterMs: r.requeueAfterMs };
    },
  };

  /**
   * A step of the deploy or revert run through the rollout engine (intent first, one action, the
   * outcome folded in): each of its writes is one write of the canary, with the run's status in it.
   */
  async function runStep(
    ctx: CanaryContext,
    run: CanaryRunPass,
    key: ResourceKey,
    stored: ProxyCanaryStatus,
    persist: (s: ProxyCanaryStatus) => Promise<void>,
    said: ReturnType<typeof eventsAfterWrite>,
    log: Logger,
    signal: AbortSignal,
  ): Promise<ReconcileResult> {
    if (!ctx.fleet.ok) return {};
    let current = stored;
    const write = async (runStatus: ProxyRolloutStatus): Promise<void> => {
      const folded = foldRun({ ...ctx, now: clock.now() }, run.base, run.part, runStatus);
      if (isDeepStrictEqual(folded.status, current)) return;
      said.add(objectEvents(folded.events));
      await persist(folded.status);
      logEvents(log, folded.events);
      current = folded.status;
    };
    let wrote = false;
    const r = await deps.engine.step(
      {
        name: run.name,
        key,
        generation: ctx.canary.metadata.generation ?? 0,
        spec: run.spec,
        status: run.status,
        fleet: ctx.fleet.value,
        observations: ctx.observations,
        ...(ctx.outOfRotation ? { outOfRotation: ctx.outOfRotation } : {}),
        ...(run.auth ? { auth: run.auth } : {}),
        log: log.child({ part: run.part }),
        persist: async (s) => {
          wrote = true;
          await write(s);
        },
      },
      signal,
    );
    // The run did not change: the canary's own changes (off-build marks, its message) still go in, once.
    if (!wrote) await write(r.status);
    said.written();
    if (current.phase !== stored.phase) return { requeueAfterMs: 0 };
    return r.requeueAfterMs === undefined ? {} : { requeueAfterMs: r.requeueAfterMs };
  }
}
