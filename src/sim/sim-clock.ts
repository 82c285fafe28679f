import type { Clock } from '../model/clock.js';

/** The simulator's own time (epoch ms); only ticks and advance() move it. */
export class SimClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): number {
    this.current += ms;
    return this.current;
  }
}
