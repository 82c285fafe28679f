import type { SessionKind } from '../model/snapshot.js';
import type { Prng } from './prng.js';

const MINUTE_MS = 60_000;
/** Log-normal durations: median 15 min; sigma 1.25 leaves ~5% past 2 h and ~1% past 4 h. */
const DURATION_MU = Math.log(15 * MINUTE_MS);
const DURATION_SIGMA = 1.25;
/** User certificates expire long before a day, so no session outlives one. */
export const MAX_SESSION_MS = 24 * 60 * MINUTE_MS;
/** Mean of the duration law (the cap changes it by less than 0.01%). */
export const MEAN_SESSION_MS = Math.exp(DURATION_MU + (DURATION_SIGMA * DURATION_SIGMA) / 2);
/** Share of SSH connection attempts that fail (node gone, access denied). */
export const SSH_CONNECT_FAILURE_RATE = 0.01;

/** Mostly SSH, some Kubernetes and database access; cumulative weights in draw order. */
const KIND_CUMULATIVE: readonly (readonly [SessionKind, number])[] = [
  ['ssh', 0.72],
  ['kube_exec', 0.8],
  ['kube_portforward', 0.84],
  ['kube_join', 0.86],
  ['db', 1],
];
/** Share of attempts that are SSH (the first cumulative weight). */
export const SSH_SHARE = 0.72;

/**
 * The load on one proxy: Poisson arrivals and log-normal durations, sized so the mean
 * number of live sessions at steady state (an M/G/inf queue: arrival rate x mean
 * duration) is `targetSessions`.
 */
export class SessionModel {
  /** Mean sim ms between connection attempts. */
  readonly meanGapMs: number;

  constructor(readonly targetSessions: number) {
    const successShare = 1 - SSH_SHARE * SSH_CONNECT_FAILURE_RATE;
    this.meanGapMs = targetSessions > 0 ? MEAN_SESSION_MS / (targetSessions * successShare) : Infinity;
  }

  nextGap(rng: Prng): number {
    return rng.exponential(this.meanGapMs);
  }

  kind(rng: Prng): SessionKind {
    const u = rng.next();
    for (const [kind, upTo] of KIND_CUMULATIVE) if (u < upTo) return kind;
    return 'db';
  }

  duration(rng: Prng): number {
    return Math.max(1, Math.min(MAX_SESSION_MS, rng.logNormal(DURATION_MU, DURATION_SIGMA)));
  }

  /**
   * The sessions alive at a random instant of steady state: a Poisson count, each left with
   * a uniform share of a length-biased duration (long sessions are more likely to be seen).
   * For a log-normal law the length-biased one is log-normal with mu + sigma^2.
   */
  steadyState(rng: Prng, now: number, add: (kind: SessionKind, endAt: number) => void): void {
    const n = rng.poisson(this.targetSessions);
    for (let i = 0; i < n; i++) {
      const full = Math.min(MAX_SESSION_MS, rng.logNormal(DURATION_MU + DURATION_SIGMA * DURATION_SIGMA, DURATION_SIGMA));
      add(this.kind(rng), now + Math.max(1, rng.next() * full));
    }
  }
}
