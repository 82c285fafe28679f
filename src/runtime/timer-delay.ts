/** The longest delay Node's timers hold (2^31-1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A delay a timer can hold. Longer waits (a drain deadline or a maintenance window a month
 * away, a timeout written as 30d) are cut to the longest: the work queue wakes a level-triggered
 * reconcile that works out the rest and waits again; a timeout that long is "never" either way.
 */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
