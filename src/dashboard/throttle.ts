/** Timers as the throttle uses them (the global ones; mock.timers in tests). */
export interface ThrottleTimers {
  readonly now: () => number;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
}

const globalTimers: ThrottleTimers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

export interface Throttled {
  /** Runs `fn` now if it has not run for `gapMs`; else once, `gapMs` after its last run. */
  (): void;
  cancel(): void;
}

/**
 * At most one call of `fn` per `gapMs`, the first at once and the last never lost: every open
 * dashboard refetches on a notice, and the observer may snapshot ten times a second (the demo).
 */
export function throttle(gapMs: number, fn: () => void, timers: ThrottleTimers = globalTimers): Throttled {
  let lastRun = -Infinity;
  let timer: unknown;
  const run = (): void => {
    timer = undefined;
    lastRun = timers.now();
    fn();
  };
  const throttled = (): void => {
    if (timer !== undefined) return;
    const wait = lastRun + gapMs - timers.now();
    if (wait <= 0) run();
    else timer = timers.setTimeout(run, wait);
  };
  throttled.cancel = (): void => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  return throttled;
}
