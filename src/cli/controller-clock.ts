import type { ControllerClockReading } from '../model/clock.js';
import { ClockResponse } from '../admin/schemas.js';
import { getJson } from './admin-client.js';

/** The controller's clock as the CLI uses it: `now` in epoch ms, and how to label the times it shows. */
export interface ControllerClock extends ControllerClockReading {
  /** "" on the wall clock; " (simulated)" on the simulator's, to append to every time shown. */
  readonly label: string;
}

/**
 * Reads GET /api/v1/clock from a running controller (through getJson, so --server and the
 * token file apply): plan on `now`, and append `label` to every time shown.
 */
export async function fetchControllerClock(server: string): Promise<ControllerClock> {
  const c = await getJson(server, '/api/v1/clock', ClockResponse);
  const now = Date.parse(c.now);
  if (!Number.isFinite(now)) throw new Error(`${server}/api/v1/clock answered now="${c.now}", not a time`);
  return { now, simulated: c.simulated, ...(c.timeFactor === undefined ? {} : { timeFactor: c.timeFactor }), label: c.simulated ? ' (simulated)' : '' };
}
