/** One reading of the simulator's clock (GET /clock). */
export interface SimClockReading {
  /** Simulated epoch ms. */
  readonly now: number;
  /** Simulated ms per real ms; 0 when only explicit steps move the simulator's clock. */
  readonly timeFactor: number;
}

/**
 * Another process's simulated clock, followed from its readings: between two readings it is
 * extrapolated with the time factor, and it never goes backwards (a reading behind what was
 * already shown is held until the simulator catches up). Pure: `real` is the caller's monotonic
 * real time in ms (performance.now()).
 */
export class ClockFollower {
  private base: { readonly at: number; readonly real: number };
  private factor: number;
  private shown: number;

  constructor(first: SimClockReading, real: number) {
    this.base = { at: first.now, real };
    this.factor = first.timeFactor;
    this.shown = first.now;
  }

  get timeFactor(): number {
    return this.factor;
  }

  /** The followed time at real time `real`: extrapolated, and never below a time already shown. */
  now(real: number): number {
    this.shown = Math.max(this.shown, this.base.at + Math.max(0, real - this.base.real) * this.factor);
    return this.shown;
  }

  /** Takes a new reading made at real time `real`; returns how many simulated ms it was behind the time already shown (0 when not). */
  observe(reading: SimClockReading, real: number): number {
    const behind = Math.max(0, this.now(real) - reading.now);
    this.base = { at: reading.now, real };
    this.factor = reading.timeFactor;
    return behind;
  }
}
