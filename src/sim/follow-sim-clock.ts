import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { Timers } from '../runtime/work-queue.js';
import { ClockFollower, type SimClockReading } from './clock-follower.js';

/** The controller's clock in a split demo: a separate simulator's, read through its control API. */
export interface FollowedSimClock extends Clock {
  /** Simulated ms per real ms as last read; 0 when only explicit steps move the simulator. */
  readonly timeFactor: number;
  /** Timers in simulated ms, run at the simulator's pace (real time when it has none). */
  readonly timers: Timers;
  /** Stops the periodic re-sync. */
  close(): void;
}

export interface FollowSimClockOptions {
  /** The simulator's control API, e.g. http://127.0.0.1:7300. */
  readonly url: string;
  /** Real ms between re-syncs; default 1000. */
  readonly resyncEveryMs?: number;
  readonly log: Logger;
}

const READ_TIMEOUT_MS = 2_000;

function isReading(v: unknown): v is SimClockReading {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['now'] === 'number' && Number.isFinite(r['now']) && typeof r['timeFactor'] === 'number' && r['timeFactor'] >= 0;
}

/** One GET /clock; the reading is taken as of the middle of the round trip. */
async function read(url: URL): Promise<{ reading: SimClockReading; real: number }> {
  const sent = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(READ_TIMEOUT_MS), headers: { accept: 'application/json' } });
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok || !isReading(body)) throw new Error(`${url.href} answered ${res.status} without {now, timeFactor}; is it a Meridian simulator's control API?`);
  return { reading: body, real: (sent + performance.now()) / 2 };
}

/**
 * Follows a simulator's clock: read once now (a simulator that cannot be read stops the start,
 * naming it), then again every `resyncEveryMs`, extrapolated in between and never going back.
 */
export async function followSimClock({ url, resyncEveryMs = 1_000, log }: FollowSimClockOptions): Promise<FollowedSimClock> {
  let clockUrl: URL;
  try {
    clockUrl = new URL('/clock', url);
  } catch {
    throw new Error(`the simulator's control API "${url}" is not a URL (such as http://127.0.0.1:7300)`);
  }
  const first = await read(clockUrl).catch((e: unknown) => {
    throw new Error(`cannot read the simulator's clock at ${clockUrl.href}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)} (is meridian sim running there?)`);
  });
  const follower = new ClockFollower(first.reading, first.real);
  log.info({ url: clockUrl.href, now: new Date(first.reading.now).toISOString(), timeFactor: first.reading.timeFactor }, 'Following the simulator clock');
  let failing = false;
  const resync = async (): Promise<void> => {
    try {
      const { reading, real } = await read(clockUrl);
      const behind = follower.observe(reading, real);
      // More than a second of real drift: the simulator restarted without its clock file, or was stepped back.
      if (behind > Math.max(1_000, 1_000 * reading.timeFactor)) log.warn({ behindMs: Math.round(behind) }, 'Simulator clock is behind the time already shown; holding until it catches up');
      if (failing) log.info('Simulator clock read again');
      failing = false;
    } catch (e) {
      if (!failing) log.warn({ err: e, url: clockUrl.href }, 'Simulator clock not read; extrapolating');
      failing = true;
    }
  };
  const timer = setInterval(() => void resync(), resyncEveryMs);
  timer.unref();
  const pace = (): number => (follower.timeFactor > 0 ? follower.timeFactor : 1);
  return {
    now: () => follower.now(performance.now()),
    get timeFactor() {
      return follower.timeFactor;
    },
    timers: { setTimeout: (fn, ms) => setTimeout(fn, ms / pace()), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    close: () => clearInterval(timer),
  };
}
