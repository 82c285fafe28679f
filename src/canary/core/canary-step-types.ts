import type { ProxyCanary, ProxyCanaryStatus } from '../../model/canary.js';
import type { Proxy, ProxyFleetSpec } from '../../model/fleet.js';
import type { PromAnswer } from '../../model/prometheus.js';
import { DEFAULT_NAMESPACE } from '../../model/resource.js';
import type { Result } from '../../model/result.js';
import type { ProxyRollout, ProxyRolloutSpec, ProxyRolloutStatus, RolloutAction } from '../../model/rollout.js';
import type { ProxyObservation } from '../../model/snapshot.js';
import type { AuthVersion } from '../../rollout/core/version-skew-gate.js';
import type { QueryPlan, ResolvedPrometheus } from './prometheus-analysis.js';

/** Everything one pass of a canary decides from: plain state, read by the adapter. */
export interface CanaryContext {
  /** As stored: metadata, spec and status. */
  readonly canary: ProxyCanary;
  /** The canary's fleet, or why it has none. */
  readonly fleet: Result<ProxyFleetSpec, string>;
  readonly observations: ReadonlyMap<string, ProxyObservation>;
  /** Proxies held out of rotation by every run (rollouts and canaries); this run's own are told apart by its status. */
  readonly outOfRotation?: ReadonlySet<string>;
  /** The fleet's Auth Service, for Teleport's version skew rule; absent when the fleet names none. */
  readonly auth?: AuthVersion;
  readonly now: number;
}

export type RunPart = 'deploy' | 'revert';

/** What to save from a failing proxy: a debug build's pprof, the configured command. */
export interface CaptureWhat {
  readonly pprof: boolean;
  readonly command?: readonly string[];
}

/** The canary's own outside actions (the deploy and revert runs' steps go through the rollout engine). */
export type CanaryAction =
  /** Save diagnostics of the failing proxies before the rollback; `id` is the same when made again. */
  | { readonly kind: 'capture'; readonly id: string; readonly proxies: readonly Proxy[]; readonly what: CaptureWhat }
  /** Ask Prometheus the interval's queries at its end (`at`, epoch ms): a read whose answers fold into the status. */
  | { readonly kind: 'query'; readonly at: number; readonly prometheus: ResolvedPrometheus; readonly plans: readonly QueryPlan[] }
  /** Create the ProxyRollout that takes the build to the fleet, unless it exists. */
  | { readonly kind: 'promote'; readonly rollout: ProxyRollout };

export type CanaryOutcome =
  | { readonly kind: 'capture'; readonly saved: readonly { readonly proxy: string; readonly files: readonly string[]; readonly error?: string }[] }
  /** Answers by `name\npromql`; absent when the pass was stopped before they all came (no verdict on half the answers). */
  | { readonly kind: 'query'; readonly answers?: ReadonlyMap<string, PromAnswer> }
  | { readonly kind: 'promote'; readonly created: boolean };

/** One pass of the canary's deploy or revert run, made by the rollout engine. */
export interface CanaryRunPass {
  readonly part: RunPart;
  /** `namespace/name/part`, in the run's hook and notice ids. */
  readonly name: string;
  readonly spec: ProxyRolloutSpec;
  /** The run's status as stored. */
  readonly status: ProxyRolloutStatus;
  readonly auth?: AuthVersion;
  /** The canary's status each of the run's writes is folded into (foldRun). */
  readonly base: ProxyCanaryStatus;
  /** The step the engine will make (it computes the same one). */
  readonly action?: RolloutAction;
}

export interface CanaryEvent {
  readonly level: 'info' | 'warn';
  /** UpperCamelCase, as a Kubernetes Event's reason. */
  readonly reason: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface CanaryStep {
  /** The next status, without `inFlight`: the caller writes the action there before making it. */
  readonly status: ProxyCanaryStatus;
  /** At most one of `action` and `run.action` per pass. */
  readonly action?: CanaryAction;
  readonly run?: CanaryRunPass;
  /** When to look again if nothing else happens (epoch ms). */
  readonly wakeAt?: number;
  readonly events: readonly CanaryEvent[];
}

/** `namespace/name` of the promotion rollout. */
export const rolloutRef = (r: ProxyRollout): string => `${r.metadata.namespace ?? DEFAULT_NAMESPACE}/${r.metadata.name}`;

/** The id the stored intent goes by: the capture's id, the query's end, the rollout's name. */
export function intentOf(a: CanaryAction): NonNullable<ProxyCanaryStatus['inFlight']> {
  switch (a.kind) {
    case 'capture':
      return { kind: 'capture', id: a.id, proxies: a.proxies.map((p) => p.name) };
    case 'query':
      return { kind: 'query', at: new Date(a.at).toISOString() };
    case 'promote':
      return { kind: 'promote', rollout: rolloutRef(a.rollout) };
  }
}
