import type { Logger } from 'pino';
import type { RunHook, SendNotice } from '../model/actuators.js';
import type { Clock } from '../model/clock.js';
import { eventsAfterWrite, type ObjectEvent, type ObjectEventType, type RecordEvent } from '../model/object-events.js';
import type { ResourceKey } from '../model/resource.js';
import type { ProxyFleetSpec } from '../model/fleet.js';
import { err } from '../model/result.js';
import type { ProxyRolloutSpec, ProxyRolloutStatus, RolloutAction } from '../model/rollout.js';
import type { ProxyObservation } from '../model/snapshot.js';
import { applyOutcome, type ActionOutcome } from './core/apply-outcome.js';
import type { RolloutEvent } from './core/rollout-draft.js';
import { stepRollout, type RolloutContext } from './core/step-rollout.js';
import type { AuthVersion } from './core/version-skew-gate.js';
import { hookRequest, noticePayload } from './rollout-payloads.js';
import { runIntentFirst } from '../runtime/intent-first.js';

export interface RolloutEngineDeps {
  readonly clock: Clock;
  readonly sendNotice: SendNotice;
  readonly runHook: RunHook;
  readonly onNotice?: (channel: string, sent: boolean) => void;
  /** After each status write, with the status before it (drain and cut-session metrics). */
  readonly onTransition?: (before: ProxyRolloutStatus, after: ProxyRolloutStatus) => void;
  /** Kubernetes Events on the run's object, for the notable steps (EVENT_TYPES); none when absent. */
  readonly recordEvent?: RecordEvent;
}

/** One rollout-shaped run: a ProxyRollout, or the proxies of a canary going to (or back from) a build. */
export interface EngineRun {
  /** `namespace/name`, in action ids and notices. */
  readonly name: string;
  /** The object the run's Events are recorded on: the ProxyRollout, or the ProxyCanary whose run it is. */
  readonly key: ResourceKey;
  readonly generation: number;
  readonly spec: ProxyRolloutSpec;
  readonly status: ProxyRolloutStatus;
  readonly fleet: ProxyFleetSpec;
  readonly observations: ReadonlyMap<string, ProxyObservation>;
  /** Proxies out of rotation for any run (rollouts and canaries); this run's own are told apart by its status. */
  readonly outOfRotation?: ReadonlySet<string>;
  /** Proxies live canaries hold, with who holds them (rollouts skip them; a canary's own runs get none). */
  readonly claimedByCanaries?: ReadonlyMap<string, string>;
  /** The fleet's Auth Service for Teleport's version skew rule (authVersionOf); absent when the fleet names none. */
  readonly auth?: AuthVersion;
  readonly log: Logger;
  /** Stores the run's status; called only when it changed. */
  readonly persist: (status: ProxyRolloutStatus) => Promise<void>;
}

function logEvents(log: Logger, events: readonly RolloutEvent[]): void {
  for (const e of events) log.info({ reason: e.reason, ...(e.proxy ? { proxy: e.proxy } : {}), ...(e.region ? { region: e.region } : {}) }, e.message);
}

/** The steps' events that become Kubernetes Events (the rest stay in the log), by reason: their type, and the Event's reason when it differs. */
const EVENT_TYPES: Readonly<Record<string, { readonly type: ObjectEventType; readonly reason?: string }>> = {
  RolloutStarted: { type: 'Normal' },
  ProxyOutOfRotation: { type: 'Normal' },
  DrainDeadline: { type: 'Warning' },
  ProxyDone: { type: 'Normal', reason: 'ProxyUpgraded' },
  ProxyUpgradeFailed: { type: 'Warning' },
  ProxyFailed: { type: 'Warning' },
  ProxyBackInRotation: { type: 'Warning' },
  ProxyDrifted: { type: 'Warning' },
  HookFailed: { type: 'Warning' },
  NoticeGiven: { type: 'Normal' },
  NoticeGivenWithFailures: { type: 'Warning' },
  NoticeFailed: { type: 'Warning' },
  NoWindow: { type: 'Warning' },
  VersionSkew: { type: 'Warning' },
  AuthVersionUnknown: { type: 'Warning' },
  RolloutCompleted: { type: 'Normal' },
  RolloutFailed: { type: 'Warning' },
  RolloutAborted: { type: 'Warning' },
};

function objectEvents(events: readonly RolloutEvent[]): ObjectEvent[] {
  return events.flatMap((e) => {
    const t = EVENT_TYPES[e.reason];
    if (!t) return [];
    const about = e.proxy && !e.message.includes(e.proxy) ? `${e.proxy}: ` : '';
    return [{ type: t.type, reason: t.reason ?? e.reason, message: `${about}${e.message}` }];
  });
}

/** Drains that ended with this write (the steps record the end in status, not as an event). */
function drainsEnded(before: ProxyRolloutStatus, after: ProxyRolloutStatus): ObjectEvent[] {
  const was = new Map((before.proxies ?? []).map((p) => [p.name, p.drainedAt]));
  return (after.proxies ?? [])
    .filter((p) => p.drainedAt !== undefined && p.drainedAt !== was.get(p.name))
    .map((p) => ({ type: 'Normal', reason: 'ProxyDrained', message: `${p.name} drained; ${p.sessionsCut ?? 0} session(s) cut` }));
}

/**
 * The per-proxy steps of a rollout (notice, out of rotation, drain, upgrade, verify, back), one
 * safe step per call: compute (pure core), write the intent, act once, fold the result in, write
 * again. A crash between any two of these resumes from the stored status.
 */
export function createRolloutEngine(deps: RolloutEngineDeps) {
  const { clock } = deps;

  async function perform(run: EngineRun, status: ProxyRolloutStatus, action: RolloutAction, signal: AbortSignal): Promise<ActionOutcome> {
    const state = { spec: run.spec, status };
    if (action.kind === 'notify') {
      const payload = noticePayload(state, run.name, action.noticeId, clock.now());
      const channels = (run.spec.notice?.channels ?? []).filter((c) => action.channels.includes(c.name));
      const results = await Promise.all(
        channels.map(async (c) => ({
          channel: c.name,
          result: payload ? await deps.sendNotice(c, payload, signal) : err({ attempts: 0, error: `notice ${action.noticeId} is no longer in the status` }),
        })),
      );
      for (const { channel, result } of results) deps.onNotice?.(channel, result.ok);
      return { kind: 'notify', results };
    }
    const req = hookRequest(state, run.name, run.fleet, action);
    return { kind: 'hook', result: req ? await deps.runHook(req, signal) : err({ attempts: 0, error: `proxy ${action.proxy} is no longer in the fleet` }) };
  }

  return {
    /** One step; returns when to look again (0: at once, after an action). */
    async step(run: EngineRun, signal: AbortSignal): Promise<{ readonly requeueAfterMs?: number; readonly status: ProxyRolloutStatus }> {
      const ctx: RolloutContext = { rollout: run.name, generation: run.generation, spec: run.spec, status: run.status, fleet: run.fleet, observations: run.observations, ...(run.outOfRotation ? { outOfRotation: run.outOfRotation } : {}), ...(run.claimedByCanaries ? { claimedByCanaries: run.claimedByCanaries } : {}), ...(run.auth ? { auth: run.auth } : {}), now: clock.now() };
      const step = stepRollout(ctx);
      logEvents(run.log, step.events);
      const record = deps.recordEvent;
      const said = eventsAfterWrite((e) => record?.(run.key, e));
      said.add(objectEvents(step.events));
      const result = await runIntentFirst<ProxyRolloutStatus, RolloutAction, ActionOutcome>({
        stored: run.status,
        step,
        withIntent: (status, action) => ({ ...status, inFlight: action }),
        perform: (action, intent) => perform(run, intent, action, signal),
        fold: (intent, action, outcome) => {
          const applied = applyOutcome({ ...ctx, status: intent, now: clock.now() }, action, outcome);
          logEvents(run.log, applied.events);
          said.add(objectEvents(applied.events));
          return applied.status;
        },
        persist: async (next, before) => {
          await run.persist(next);
          deps.onTransition?.(before, next);
          said.add(drainsEnded(before, next));
          said.written();
        },
        now: () => clock.now(),
      });
      // Nothing to write: what the pass said stands on the stored status.
      said.written();
      return result;
    },
  };
}

export type RolloutEngine = ReturnType<typeof createRolloutEngine>;
