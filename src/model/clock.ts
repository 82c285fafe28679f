/** Injected time source (epoch milliseconds); core code never calls Date.now(). */
export interface Clock {
  now(): number;
}

/** The clock the controller acts on, as the admin API reports it (GET /api/v1/clock). */
export interface ControllerClockReading {
  /** Epoch ms. */
  readonly now: number;
  /** Not the wall clock: the simulator's (the demo), so times shown are simulated ones. */
  readonly simulated: boolean;
  /** Simulated ms per real ms, when simulated and known; 0 when only explicit steps move it. */
  readonly timeFactor?: number;
}
