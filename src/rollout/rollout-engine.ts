import type { Logger } from 'pino';
import type { RunHook, SendNotice } from '../model/actuators.js';
import type { Clock } from '../model/clock.js';
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
}

/** One rollout-shaped run: a ProxyRollout, or the proxies of a canary going to (or back from) a build. */
export interface EngineRun {
  /** `namespace/name`, in action ids and notices. */
  readonly name: string;
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
      return runIntentFirst<ProxyRolloutStatus, RolloutAction, ActionOutcome>({
        stored: run.status,
        step,
        withIntent: (status, action) => ({ ...status, inFlight: action }),
        perform: (action, intent) => perform(run, intent, action, signal),
        fold: (intent, action, outcome) => {
          const applied = applyOutcome({ ...ctx, status: intent, now: clock.now() }, action, outcome);
          logEvents(run.log, applied.events);
          return applied.status;
        },
        persist: async (next, before) => {
          await run.persist(next);
          deps.onTransition?.(before, next);
        },
        now: () => clock.now(),
      });
    },
  };
}

export type RolloutEngine = ReturnType<typeof createRolloutEngine>;
