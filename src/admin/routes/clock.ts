import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ControllerClockReading } from '../../model/clock.js';
import { ClockResponse } from '../schemas.js';

export interface ClockRoutesOptions {
  /** The clock the controller acts on, read at each request. */
  readonly controllerClock: () => ControllerClockReading;
}

export function clockView(c: ControllerClockReading): ClockResponse {
  return { now: new Date(c.now).toISOString(), simulated: c.simulated, ...(c.timeFactor === undefined ? {} : { timeFactor: c.timeFactor }) };
}

/** GET /clock: what time it is for the controller, and whether that time is simulated. */
export const clockRoutes: FastifyPluginAsyncTypebox<ClockRoutesOptions> = async (app, opts) => {
  app.get('/clock', { schema: { response: { 200: ClockResponse } } }, async (): Promise<ClockResponse> => clockView(opts.controllerClock()));
};
