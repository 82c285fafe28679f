import type { ControllerClock } from './controller-clock.js';

/**
 * The line that heads what the CLI prints from a controller on the simulator's clock (the demo),
 * so no one reads its times as wall-clock ones; undefined on the wall clock.
 */
export function clockNote(c: Pick<ControllerClock, 'simulated' | 'timeFactor'> | undefined): string | undefined {
  if (!c?.simulated) return undefined;
  const pace = c.timeFactor === undefined ? '' : c.timeFactor === 0 ? ' (moved only by explicit steps)' : ` (${c.timeFactor}× real time)`;
  return `Times are on the simulator's clock${pace}, not the wall clock`;
}
