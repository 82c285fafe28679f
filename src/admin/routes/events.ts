import type { FastifyPluginAsync } from 'fastify';
import type { ChangeFeed } from '../../dashboard/change-feed.js';
import { intervalHeartbeat, openEventStream, type EventStream, type Heartbeat } from '../../dashboard/event-stream.js';

export interface EventRoutesOptions {
  readonly changes: ChangeFeed;
  /** Default: every HEARTBEAT_MS. */
  readonly heartbeat?: Heartbeat;
}

/** GET /events: Server-Sent Events telling the dashboard which topic to refetch (fleet, rollout, canary, peering). */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, opts) => {
  const open = new Set<EventStream>();
  // Before the server closes: it would wait for these never-ending responses.
  app.addHook('preClose', async () => {
    for (const s of [...open]) s.close();
  });
  app.get('/events', async (req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // A reverse proxy in front must not hold notices back in its buffer.
      'x-accel-buffering': 'no',
    });
    req.raw.socket.setNoDelay(true);
    const stream = openEventStream(reply.raw, opts.changes, opts.heartbeat ?? intervalHeartbeat);
    open.add(stream);
    stream.onClosed(() => open.delete(stream));
  });
};
