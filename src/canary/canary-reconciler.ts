import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { CanaryPhase, ProxyCanary, ProxyCanaryStatus, QueryOutcome } from '../model/canary.js';
import type { Clock } from '../model/clock.js';
import { setCondition } from '../model/conditions.js';
import { durationOr } from '../model/duration.js';
import { formatPath } from '../model/field-error.js';
import type { Proxy, ProxyFleetSpec } from '../model/fleet.js';
import type { PromAnswer, QueryPrometheus } from '../model/prometheus.js';
import { err } from '../model/result.js';
import { DEFAULT_NAMESPACE, keyOf, keyString, type ResourceKey } from '../model/resource.js';
import type { ProxyRolloutStatus } from '../model/rollout.js';
import type { FleetSnapshot, ProxyObservation } from '../model/snapshot.js';
import type { Store } from '../model/store.js';
import { fleetOf } from '../fleet/fleet-of.js';
import type { RolloutEngine } from '../rollout/rollout-engine.js';
import { sameVersion } from '../rollout/core/rollout-draft.js';
import { authVersionOf, blocks, judgeSkew, skewCondition, VERSION_SKEW_CONDITION } from '../rollout/core/version-skew-gate.js';
import type { Reconciler, ReconcileResult } from '../runtime/reconciler.js';
import { baselineProxies } from './core/baseline.js';
import { deploySpec, previousVersion, promotionRollout, revertSpec, trackOffBuild } from './core/canary-runs.js';
import { resolveChecks } from './core/canary-checks.js';
import { decideCanary } from './core/decide-canary.js';
import { judgeInterval } from './core/judge-canary.js';
import { judgeQuery, planQueries, queryLabel, resolvePrometheus, type QueryPlan, type ResolvedPrometheus } from './core/prometheus-analysis.js';
import { addObservation, emptyWindow, type ProxyWindow } from './core/proxy-window.js';
import { selectCanaryProxies } from './core/select-subset.js';

/** Saves what a failing canary proxy shows before it is taken back (goroutine dump, heap profile). */
export type CaptureDiagnostics = (
  canary: string,
  proxy: Proxy,
  what: { readonly pprof: boolean; readonly command?: readonly string[] },
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
  readonly heldOutOfRotation?: () => ReadonlySet<string>;
}

const KEPT_INTERVALS = 100;
const TERMINAL: ReadonlySet<CanaryPhase | undefined> = new Set(['Promoted', 'RolledBack']);

/**
 * Drives each ProxyCanary: choose the subset, deploy the build through the rollout steps, bake
 * with an analysis every interval against same-region baselines, then promote, hold for the
 * operator, or take the build back through the same steps. The current interval's windows live in
 * memory: a restart begins that interval again; everything decided is in the status.
 */
export function createCanaryReconciler(deps: CanaryReconcilerDeps): Reconciler {
  const { store, clock } = deps;
  const windows = new Map<string, Map<string, ProxyWindow>>();

  async function write(c: ProxyCanary, next: ProxyCanaryStatus): Promise<ProxyCanary> {
    const status: ProxyCanaryStatus = {
      ...next,
      observedGeneration: c.metadata.generation ?? 0,
      conditions: setCondition(
        next.conditions ?? [],
        { type: 'Ready', status: next.phase === 'Invalid' ? 'False' : 'True', reason: next.phase === 'Invalid' ? 'InvalidSpec' : 'SpecValid', message: next.phase === 'Invalid' ? (next.message ?? '') : 'The spec is valid for the fleet', observedGeneration: c.metadata.generation ?? 0 },
        new Date(clock.now()).toISOString(),
      ),
    };
    if (isDeepStrictEqual(status, c.status ?? {})) return c;
    await store.updateStatus('ProxyCanary', c.metadata.namespace ?? DEFAULT_NAMESPACE, c.metadata.name, status);
    return { ...c, status };
  }

  /** Adds this snapshot to each proxy's window of the current interval. */
  function observe(key: string, observations: ReadonlyMap<string, ProxyObservation>): Map<string, ProxyWindow> {
    let w = windows.get(key);
    if (!w) windows.set(key, (w = new Map()));
    for (const o of observations.values()) w.set(o.name, addObservation(w.get(o.name) ?? emptyWindow(o.name, o.region), o));
    return w;
  }

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

  /** Marks the canary proxies seen off the build (and unmarks those back on it): routing and analysis leave them out. */
  async function markOffBuild(c: ProxyCanary, observations: ReadonlyMap<string, ProxyObservation>, log: Logger): Promise<ProxyCanary> {
    const offBuild = trackOffBuild(c, observations, new Date(clock.now()).toISOString());
    const before = c.status?.offBuild ?? [];
    if (isDeepStrictEqual(offBuild, before)) return c;
    for (const o of offBuild)
      if (!before.some((x) => x.proxy === o.proxy && x.version === o.version))
        log.warn({ proxy: o.proxy, version: o.version }, `Canary proxy ${o.proxy} left build ${c.spec.build.version}: it runs ${o.version}; no invitee is sent there and the analysis leaves it out`);
    for (const o of before) if (!offBuild.some((x) => x.proxy === o.proxy)) log.info({ proxy: o.proxy }, `Canary proxy ${o.proxy} runs build ${c.spec.build.version} again`);
    const { offBuild: _, ...rest } = c.status ?? {};
    return write(c, offBuild.length ? { ...rest, offBuild } : rest);
  }

  /** A new interval: counts start again from the last pages seen. */
  function newInterval(key: string): void {
    const w = windows.get(key);
    if (w) for (const [name, x] of w) w.set(name, emptyWindow(x.proxy, x.region, x.last));
  }

  return {
    kind: 'ProxyCanary',
    async reconcile(key: ResourceKey, signal: AbortSignal): Promise<ReconcileResult> {
      let c = await store.get('ProxyCanary', key.namespace, key.name);
      if (!c) {
        windows.delete(keyString(key));
        return {};
      }
      const name = `${key.namespace}/${key.name}`;
      const log = deps.log.child({ kind: 'ProxyCanary', name });
      const st = c.status ?? {};
      const spec = c.spec;
      if (TERMINAL.has(st.phase)) return {};
      const fleet = await fleetOf(store, c);
      if (!fleet.ok) {
        await write(c, { ...st, phase: 'Invalid', message: fleet.error });
        return {};
      }
      const fleetSpec = fleet.value.spec;
      const snapshot = deps.snapshotOf(keyOf(fleet.value));
      const observations = new Map<string, ProxyObservation>((snapshot?.proxies ?? []).map((o) => [o.name, o]));
      const now = clock.now();
      const nowIso = new Date(now).toISOString();
      const auth = authVersionOf(fleetSpec, snapshot);

      if (!st.startedAt) {
        if (c.spec.paused) {
          await write(c, { ...st, phase: 'Pending', message: 'Not started: run `meridian canary start`' });
          return {};
        }
        const chosen = selectCanaryProxies(c.spec, fleetSpec, (p) => observations.get(p)?.ready === true);
        if (!chosen.ok) {
          await write(c, { ...st, phase: 'Invalid', message: chosen.error.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; ') });
          return {};
        }
        // Teleport's version skew rule before anything starts; level-triggered: judged again every pass until it allows the build.
        const skew = judgeSkew(c.spec.build.version, auth, chosen.value.flatMap((p) => observations.get(p)?.metrics?.version ?? []));
        const conditions = setCondition(st.conditions ?? [], skewCondition(skew, c.metadata.generation ?? 0), nowIso);
        if (blocks(skew)) {
          if (st.message !== `Not started: version skew: ${skew.message}`) log.warn({ build: c.spec.build.version }, `Canary not started: version skew: ${skew.message}`);
          await write(c, { ...st, phase: 'Pending', message: `Not started: version skew: ${skew.message}`, conditions });
          return {};
        }
        log.info({ proxies: chosen.value }, `Canary of ${c.spec.build.version} starts on ${chosen.value.length} proxies`);
        await write(c, { ...st, startedAt: nowIso, proxies: chosen.value, phase: 'Deploying', message: `Deploying ${c.spec.build.version} to ${chosen.value.join(', ')}`, conditions });
        return { requeueAfterMs: 0 };
      }
      const proxies = st.proxies ?? [];
      if (st.phase === 'Deploying' || st.phase === 'Baking' || st.phase === 'Held') c = await markOffBuild(c, observations, log);
      const run = (part: 'deploy' | 'revert', version?: string) =>
        deps.engine.step(
          {
            name: `${name}/${part}`,
            generation: c?.metadata.generation ?? 0,
            spec: part === 'deploy' ? deploySpec(spec, fleetSpec, proxies) : revertSpec(spec, fleetSpec, proxies, version ?? ''),
            status: (part === 'deploy' ? c?.status?.deploy : c?.status?.revert) ?? {},
            fleet: fleetSpec,
            observations,
            ...(deps.heldOutOfRotation ? { outOfRotation: deps.heldOutOfRotation() } : {}),
            // A revert puts proxies back on the version they ran before, which the Auth Service already
            // served: a rollback never waits on the skew rule (nor on an Auth address that cannot be read).
            ...(auth && part === 'deploy' ? { auth } : {}),
            log: log.child({ part }),
            persist: async (s) => {
              if (c) c = await write(c, withRunSkew({ ...(c.status ?? {}), [part]: s }, s));
            },
          },
          signal,
        );

      switch (st.phase) {
        case 'Deploying': {
          const r = await run('deploy');
          if (r.status.phase === 'Completed') {
            windows.delete(keyString(key));
            await write(c, { ...(c.status ?? {}), phase: 'Baking', bakeStartedAt: nowIso, intervalStartedAt: nowIso, message: `Baking ${c.spec.build.version} on ${proxies.join(', ')}` });
            return { requeueAfterMs: 0 };
          }
          if (r.status.phase === 'Failed' || r.status.phase === 'Aborted') return rollBack(`deploying the build failed: ${r.status.message ?? ''}`, []);
          c = await write(c, { ...(c.status ?? {}), message: `Deploying ${c.spec.build.version} to ${proxies.join(', ')}${waitsOf(r.status)}` });
          return r.requeueAfterMs === undefined ? {} : { requeueAfterMs: r.requeueAfterMs };
        }
        case 'Baking':
          return bake();
        case 'Held':
          if (c.spec.decision === 'promote') return promote('the operator promoted it');
          if (c.spec.decision === 'rollback') return rollBack('the operator rolled it back', []);
          return {};
        case 'RollingBack': {
          const r = await run('revert', previousVersion(st.deploy, fleetSpec, proxies));
          if (r.status.phase === 'Completed' || r.status.phase === 'Failed') {
            await write(c, { ...(c.status ?? {}), phase: 'RolledBack', message: `${st.decision?.reason ?? 'rolled back'}; ${r.status.message ?? ''}` });
            return {};
          }
          c = await write(c, { ...(c.status ?? {}), message: `Rolling back: ${st.decision?.reason ?? ''}${waitsOf(r.status)}` });
          return r.requeueAfterMs === undefined ? {} : { requeueAfterMs: r.requeueAfterMs };
        }
        case 'Promoting':
          return promote(st.decision?.reason ?? 'the analysis passed');
        default:
          // Invalid or Pending after a start: the spec changed under a running canary; say so and wait.
          return {};
      }

      async function bake(): Promise<ReconcileResult> {
        if (!c) return {};
        const w = observe(keyString(key), observations);
        if (c.spec.decision === 'rollback') return rollBack('the operator rolled it back', []);
        const intervalMs = durationOr(c.spec.analysisInterval, '5m');
        const bakeMs = durationOr(c.spec.bakeTime, '2h');
        const started = Date.parse(st.intervalStartedAt ?? nowIso);
        if (now < started + intervalMs) return { requeueAfterMs: started + intervalMs - now };
        const canaries = new Set(proxies);
        // Proxies moved off the build are no sample of it.
        const off = new Set((c.status?.offBuild ?? []).map((o) => o.proxy));
        const judged = proxies.filter((p) => !off.has(p));
        if (!judged.length) return hold(`no canary proxy runs ${c.spec.build.version} any more (${(c.status?.offBuild ?? []).map((o) => `${o.proxy} runs ${o.version}`).join(', ')})`);
        const before = previousVersion(st.deploy, fleetSpec, proxies);
        const onBefore = (p: string): boolean => observations.get(p)?.ready === true && sameVersion(observations.get(p)?.metrics?.version, before);
        const checks = resolveChecks(c.spec.analysis?.checks);
        const baselines = new Map(judged.map((p) => [p, baselineProxies(fleetSpec, p, canaries, onBefore)]));
        const prometheus = c.spec.analysis?.prometheus ? resolvePrometheus(c.spec.analysis.prometheus) : undefined;
        // The queries run before the judgement; the judge gets their numbers as data.
        const plans = prometheus
          ? planQueries({
              queries: prometheus.queries,
              canary: judged.map((p) => ({ proxy: p, region: regionOf(fleetSpec, p) })),
              baselineOf: (p) => {
                const names = baselines.get(p) ?? [];
                return names.length ? { proxies: names, region: regionOf(fleetSpec, names[0] ?? '') } : undefined;
              },
              buildVersion: c.spec.build.version,
              baselineVersion: before,
              intervalMs,
            })
          : [];
        const queries = prometheus ? await measureQueries(prometheus, plans) : undefined;
        // Stopping: answers cut short are no verdict; the interval is judged again after the restart.
        if (signal.aborted) return {};
        const verdict = judgeInterval({
          from: st.intervalStartedAt ?? nowIso,
          to: nowIso,
          canary: judged.flatMap((p) => w.get(p) ?? []),
          baselineOf: (p) => (baselines.get(p) ?? []).flatMap((b) => w.get(b) ?? []),
          checks,
          ...(queries ? { queries } : {}),
        });
        newInterval(keyString(key));
        const intervals = [...(st.intervals ?? []).slice(-(KEPT_INTERVALS - 1)), verdict];
        const failing = [...verdict.outcomes.filter((o) => o.result === 'Fail').map((o) => `${o.proxy}:${o.check}`), ...(verdict.queries ?? []).filter((o) => o.result === 'Fail').map((o) => `${o.proxy}:${queryLabel(o.query)}`)];
        log.info({ verdict: verdict.verdict, failing }, `Canary interval ${verdict.verdict}`);
        const decision = decideCanary({ intervals, checks, queries: prometheus?.queries ?? [], bakeEndsAt: Date.parse(st.bakeStartedAt ?? nowIso) + bakeMs, now });
        c = await write(c, { ...(c.status ?? {}), intervals, intervalStartedAt: nowIso });
        switch (decision.kind) {
          case 'continue':
            return { requeueAfterMs: intervalMs };
          case 'rollback':
            return rollBack(decision.reason, judged);
          case 'hold':
            return hold(decision.reason);
          case 'succeed':
            if (c.spec.onSuccess === 'revert') return rollBack('the analysis passed; the spec asks for the previous version back', []);
            return promote('the analysis passed');
        }
      }

      async function hold(reason: string): Promise<ReconcileResult> {
        if (c) await write(c, { ...(c.status ?? {}), phase: 'Held', decision: { kind: 'hold', reason, at: nowIso }, message: `Held for the operator: ${reason} (meridian canary promote|rollback)` });
        return {};
      }

      /** Runs each distinct query of the plans once, all at once (the client bounds how many are in flight), and judges them. */
      async function measureQueries(prom: ResolvedPrometheus, plans: readonly QueryPlan[]): Promise<QueryOutcome[]> {
        const asked = new Map<string, Promise<PromAnswer>>();
        const ask = (name: string, promql: string): Promise<PromAnswer> => {
          const id = `${name}\n${promql}`;
          let answer = asked.get(id);
          if (!answer) asked.set(id, (answer = queryOnce(prom, name, promql, now, signal)));
          return answer;
        };
        const outcomes = await Promise.all(
          plans.map(async (p) => {
            const [value, sample, baseline] = await Promise.all([ask(p.query.name, p.value), p.sample === undefined ? undefined : ask(p.query.name, p.sample), p.baseline === undefined ? undefined : ask(p.query.name, p.baseline)]);
            return judgeQuery(p.query, p.proxy, { value, ...(sample ? { sample } : {}), ...(baseline ? { baseline } : {}) });
          }),
        );
        const errors = new Set<string>();
        for (const a of await Promise.all(asked.values())) if (!a.ok && !a.error.noData) errors.add(a.error.error);
        if (errors.size) log.warn({ errors: [...errors].slice(0, 5), count: errors.size }, 'Canary Prometheus queries failed; those checks are Inconclusive this interval');
        return outcomes;
      }

      /** Diagnostics first (a debug build's pprof, the configured command), then the build goes back through the drain path. */
      async function rollBack(reason: string, capture: readonly string[]): Promise<ReconcileResult> {
        if (!c) return {};
        log.warn({ reason }, 'Canary rolling back');
        const diagnostics = [...(c.status?.diagnostics ?? [])];
        const what = { pprof: c.spec.build.debug ?? false, ...(c.spec.diagnostics?.command ? { command: c.spec.diagnostics.command } : {}) };
        if (what.pprof || what.command) {
          // All proxies at once: a hung build must not hold the rollback back once per proxy.
          const proxies = capture.flatMap((p) => fleetSpec.proxies.filter((x) => x.name === p));
          const saved = await Promise.all(proxies.map((proxy) => deps.captureDiagnostics(name, proxy, what, signal)));
          proxies.forEach((proxy, i) => {
            const d = saved[i] ?? { files: [] };
            diagnostics.push({ proxy: proxy.name, files: d.files, ...(d.error ? { error: d.error } : {}), at: nowIso });
            log.info({ proxy: proxy.name, files: d.files, ...(d.error ? { error: d.error } : {}) }, 'Saved canary diagnostics');
          });
        }
        await write(c, { ...(c.status ?? {}), phase: 'RollingBack', decision: { kind: 'rollback', reason, at: nowIso }, diagnostics, message: `Rolling back: ${reason}` });
        return { requeueAfterMs: 0 };
      }

      async function promote(reason: string): Promise<ReconcileResult> {
        if (!c) return {};
        if (c.status?.phase !== 'Promoting') c = await write(c, { ...(c.status ?? {}), phase: 'Promoting', decision: { kind: 'succeed', reason, at: nowIso } });
        const rollout = promotionRollout(c);
        const existing = await store.get('ProxyRollout', rollout.metadata.namespace ?? DEFAULT_NAMESPACE, rollout.metadata.name);
        if (!existing) await store.create(rollout);
        const ref = `${rollout.metadata.namespace ?? DEFAULT_NAMESPACE}/${rollout.metadata.name}`;
        await write(c, { ...(c.status ?? {}), phase: 'Promoted', promotedRollout: ref, message: `Promoted: ProxyRollout ${ref} takes ${c.spec.build.version} to the fleet${c.spec.autoPromote ? '' : ' once started (meridian rollout start)'}` });
        return {};
      }
    },
  };
}

/** The canary shows the VersionSkewOK condition of the run it is in (deploy or revert), as that run judged it this pass. */
function withRunSkew(st: ProxyCanaryStatus, run: ProxyRolloutStatus): ProxyCanaryStatus {
  const skew = run.conditions?.find((x) => x.type === VERSION_SKEW_CONDITION);
  if (!skew) return st;
  const others = (st.conditions ?? []).filter((x) => x.type !== VERSION_SKEW_CONDITION);
  return { ...st, conditions: [...others, skew] };
}

/** What the run's proxies wait for, for the canary's message (it is not "deploying" while it waits for a window days away). */
function waitsOf(run: ProxyRolloutStatus): string {
  // A run that has not started says why itself (version skew: Auth too old, or its version unknown).
  if (run.phase === 'Pending' && !run.startedAt && run.message) return `: ${run.message}`;
  const waits = (run.proxies ?? []).flatMap((p) => (p.waitingFor ? [`${p.name} waits for ${p.waitingFor.message}`] : []));
  return waits.length ? `: ${waits.join('; ')}` : '';
}

function regionOf(fleet: ProxyFleetSpec, proxy: string): string {
  return fleet.proxies.find((p) => p.name === proxy)?.region ?? '';
}

