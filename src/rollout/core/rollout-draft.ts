import type { ProxyFleetSpec } from '../../model/fleet.js';
import type {
  ProxyRolloutNoticeStatus,
  ProxyRolloutProxyStatus,
  ProxyRolloutStatus,
  RegionWindowStatus,
  RolloutAction,
} from '../../model/rollout.js';
import type { ProxyObservation } from '../../model/snapshot.js';
import type { RolloutSettings } from './rollout-settings.js';
import type { AuthVersion } from './version-skew-gate.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type ProxyDraft = Mutable<ProxyRolloutProxyStatus>;
export type NoticeDraft = Mutable<ProxyRolloutNoticeStatus>;

/** Something worth a log line (and, in Kubernetes, an Event). */
export interface RolloutEvent {
  readonly reason: string;
  readonly message: string;
  readonly proxy?: string;
  readonly region?: string;
}

/** The working copy one pass fills in; the core's only mutable state, local to the pass. */
export interface RolloutDraft {
  readonly rollout: string;
  readonly now: number;
  readonly settings: RolloutSettings;
  readonly fleet: ProxyFleetSpec;
  readonly observations: ReadonlyMap<string, ProxyObservation>;
  /** Out of rotation for any run (this one's own are told apart by its status); another run's count as unavailable in the take-out rules. */
  readonly outOfRotation: ReadonlySet<string>;
  /** Proxies a live canary holds (deployed or being deployed), with who holds them: this run skips them. */
  readonly claimed: ReadonlyMap<string, string>;
  /** The fleet's Auth Service, checked before each take-out; absent when the fleet names none (not checked). */
  readonly auth?: AuthVersion;
  readonly startedAt: string;
  readonly proxies: ProxyDraft[];
  notices: NoticeDraft[];
  readonly windows: Map<string, RegionWindowStatus>;
  action?: RolloutAction;
  wakeAt: number;
  readonly events: RolloutEvent[];
}

const NONE: ReadonlySet<string> = new Set();
const NO_CLAIMS: ReadonlyMap<string, string> = new Map();

export function newDraft(
  base: { rollout: string; now: number; settings: RolloutSettings; fleet: ProxyFleetSpec; observations: ReadonlyMap<string, ProxyObservation>; outOfRotation?: ReadonlySet<string> | undefined; claimed?: ReadonlyMap<string, string> | undefined; auth?: AuthVersion | undefined },
  status: ProxyRolloutStatus & { readonly startedAt: string },
): RolloutDraft {
  const { auth, ...rest } = base;
  return {
    ...rest,
    ...(auth ? { auth } : {}),
    outOfRotation: base.outOfRotation ?? NONE,
    claimed: base.claimed ?? NO_CLAIMS,
    startedAt: status.startedAt,
    proxies: (status.proxies ?? []).map((p) => ({ ...p })),
    notices: (status.notices ?? []).map((n) => ({ ...n, channels: [...n.channels] })),
    windows: new Map((status.windows ?? []).map((w) => [w.region, w])),
    wakeAt: Infinity,
    events: [],
  };
}

export function wakeAt(d: RolloutDraft, atMs: number): void {
  if (atMs > d.now && atMs < d.wakeAt) d.wakeAt = atMs;
}

/** Claims this pass's one outside action; false if another step already has it. */
export function claimAction(d: RolloutDraft, action: RolloutAction): boolean {
  if (d.action) return false;
  d.action = action;
  return true;
}

/** A retry time still ahead: wait for it. */
export function waitingForRetry(d: RolloutDraft, retryAt: string | undefined): boolean {
  if (retryAt === undefined) return false;
  const at = Date.parse(retryAt);
  if (at <= d.now) return false;
  wakeAt(d, at);
  return true;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Backoff between rounds of a failing outside action: 30 s, 1 m, 2 m … capped at 10 m. */
export function retryDelayMs(failedRounds: number): number {
  return Math.min(600_000, 30_000 * 2 ** Math.max(0, failedRounds - 1));
}

/** Teleport reports versions without the `v` a tag may carry. */
export function sameVersion(a: string | undefined, b: string): boolean {
  return a !== undefined && a.replace(/^v/, '') === b.replace(/^v/, '');
}
