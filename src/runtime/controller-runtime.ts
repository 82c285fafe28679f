import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MeridianConfig } from '../config.js';
import type { Clock, ControllerClockReading } from '../model/clock.js';
import type { ProxyFleet } from '../model/fleet.js';
import { followSimClock, simOptionsFromFleet, startFleetSim, type FleetSim } from '../sim/index.js';
import type { Timers } from './work-queue.js';

/** The time the controller acts on: windows, deadlines, notices, timestamps, and timers in the same units. */
export interface Runtime {
  readonly clock: Clock;
  readonly timers: Timers;
}

/** Wall time: file records, and signatures receivers check against their own clocks. */
export const systemClock: Clock = { now: () => Date.now() };
const realTimers: Timers = { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
/** The fastest the observer runs on a compressed clock, in real ms. */
const MIN_REAL_OBSERVE_MS = 100;

/** Timers for a clock that runs `factor` times faster than real time. */
export function compressedTimers(factor: number): Timers {
  return { setTimeout: (fn, ms) => setTimeout(fn, ms / factor), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
}

export interface ControllerRuntime extends Runtime {
  /** Monotonic real ms: pass durations, and the observer's pace. */
  readonly stopwatch: () => number;
  /** What GET /api/v1/clock answers. */
  readonly reading: () => ControllerClockReading;
  /** Real ms from one observation cycle's start to the next. */
  readonly observeEveryMs: number;
  /** The bundled simulator, when asked for and a fleet was there to simulate. */
  readonly sim?: FleetSim;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** The clock and timers to act on (tests); otherwise the simulator's, a followed one, or the wall clock. */
  readonly runtime?: Runtime;
  /** Start the bundled fleet simulator for the fleet: only the demo asks. */
  readonly simulator?: boolean;
  /** The fleet the simulator plays. */
  readonly fleet: () => Promise<ProxyFleet | undefined>;
}

/**
 * The time the controller runs on: given (tests), the bundled simulator's (time-compressed by
 * --time-factor, so windows, notices and drains of the demo fleet play out at its pace), a
 * separate simulator's it follows (--sim-clock), or the wall clock.
 */
export async function startControllerRuntime(config: MeridianConfig, log: Logger, { runtime, simulator = false, fleet }: RuntimeOptions): Promise<ControllerRuntime> {
  if (simulator && config.sim.followClock) throw new Error(`the bundled simulator has its own clock: it cannot follow ${config.sim.followClock} too`);
  let sim: FleetSim | undefined;
  if (simulator) {
    const simulated = await fleet();
    if (simulated) {
      sim = await startFleetSim(
        simOptionsFromFleet(simulated.spec, {
          timeFactor: config.sim.timeFactor,
          // The controller runs on this clock: it must move in steps finer than an observation.
          tickMs: MIN_REAL_OBSERVE_MS,
          seed: config.sim.seed,
          // A restarted demo resumes its simulated time: stored times never lie in the future.
          clockFile: join(config.stateDir, 'sim-clock.json'),
          controlHost: config.sim.control.host,
          controlPort: config.sim.control.port,
          log: log.child({ component: 'sim' }),
        }),
      );
    } else log.warn('No valid ProxyFleet to simulate; the simulator is not started');
  }
  // A split demo (meridian sim elsewhere): the controller runs on that simulator's clock.
  const followed = !runtime && !sim && config.sim.followClock ? await followSimClock({ url: config.sim.followClock, log: log.child({ component: 'sim-clock' }) }) : undefined;
  const { clock, timers } =
    runtime ?? (sim ? { clock: sim.clock, timers: compressedTimers(config.sim.timeFactor) } : followed ? { clock: followed, timers: followed.timers } : { clock: systemClock, timers: realTimers });
  const simPace = runtime ? undefined : sim ? config.sim.timeFactor : followed && followed.timeFactor > 0 ? followed.timeFactor : undefined;
  // A followed simulator's pace may change while it runs: read at each call.
  const timeFactor = (): number | undefined => (runtime ? undefined : followed ? followed.timeFactor : sim ? config.sim.timeFactor : undefined);
  return {
    clock,
    timers,
    stopwatch: () => performance.now(),
    // Any clock but the wall clock is a simulated one.
    reading: () => {
      const factor = timeFactor();
      return { now: clock.now(), simulated: clock !== systemClock, ...(factor !== undefined ? { timeFactor: factor } : {}) };
    },
    // On the simulator's clock the observation interval is simulated time too (or drains and
    // verifications would see a scrape every few simulated minutes); scrapes still time out in real time.
    observeEveryMs: simPace ? Math.max(MIN_REAL_OBSERVE_MS, config.observe.intervalMs / simPace) : config.observe.intervalMs,
    ...(sim ? { sim } : {}),
    async close() {
      followed?.close();
      await sim?.close();
    },
  };
}
