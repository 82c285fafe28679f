import type { FastifyPluginAsync } from 'fastify';
import { TOPICS, type ChangeFeed, type Topic } from '../../dashboard/change-feed.js';
import { intervalHeartbeat, openEventStream, type EventStream, type Heartbeat } from '../../dashboard/event-stream.js';
import { createFramePublisher } from '../../dashboard/frame-publisher.js';

export interface EventRoutesOptions {
  readonly changes: ChangeFeed;
  /** Default: every HEARTBEAT_MS. */
  readonly heartbeat?: Heartbeat;
  /**
   * What each pushed event carries, built once per change for every client: `fleet` (the fleet,
   * routing, clock and newest history points), `rollout` (the rollouts with their plans), `canary`, `peering`.
   */
  readonly frames: { readonly [T in Topic]: () => Promise<unknown> };
}

/** Which frames a change makes stale: runs move proxies in and out of rotation, which the fleet frame's routing shows. */
const STALE_FRAMES: { readonly [T in Topic]: readonly Topic[] } = { fleet: ['fleet'], rollout: ['rollout', 'fleet'], canary: ['canary', 'fleet'], peering: ['peering'] };

/**
 * GET /events: Server-Sent Events for the dashboard. The fleet, rollouts, canaries and peerings
 * are pushed as `fleet`, `rollout`, `canary` and `peering` events, each built once per change and
 * written as the same bytes to every client: 50 open pages cost one build and 50 writes, not 50
 * requests.
 */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, opts) => {
  const open = new Set<EventStream>();
  const publishers = TOPICS.map((t) => createFramePublisher(t, opts.frames[t], (e) => app.log.error({ err: e, topic: t }, 'Could not build a dashboard frame')));
  const publisherOf = new Map(TOPICS.map((t, i) => [t, publishers[i]]));
  const unsubscribe = opts.changes.subscribe((c) => STALE_FRAMES[c.topic].forEach((t) => publisherOf.get(t)?.invalidate()));
  app.addHook('onClose', async () => unsubscribe());
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
    const stream = openEventStream(reply.raw, publishers, opts.heartbeat ?? intervalHeartbeat);
    open.add(stream);
    stream.onClosed(() => open.delete(stream));
  });
};
