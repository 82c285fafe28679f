import { readSecret } from '../adapters/hooks/index.js';
import { createGeoIpService, defaultGeoIpPaths } from '../adapters/geoip/index.js';
import type { RoutingTable } from '../redirect/core/routing-table.js';
import { buildPublicApp } from '../redirect/public-app.js';
import { createInvitationCounter, invitationsByCanary, registerInvitationMetrics } from '../redirect/invitation-count.js';
import { registerRedirectMetrics } from '../redirect/redirect-metrics.js';
import { createRedirectService } from '../redirect/redirect-service.js';
import { registerRoutingMetrics } from '../redirect/routing-metrics.js';
import { Closers } from '../runtime/closers.js';
import type { Job } from './job.js';
import { outOfRotation } from './out-of-rotation.js';
import { routingFor } from './routing.js';

/** The key invitations are signed with; absent: invitations are off. A file that cannot be read stops the start. */
async function readCanaryKey(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  const key = await readSecret(file);
  if (!key.ok) throw new Error(`canary key: ${key.error}`);
  return key.value;
}

/** Every instance: the routing table, rebuilt whenever what it follows changes, and the public login listener on it. */
export const redirectJob: Job = {
  name: 'redirect',
  async start({ config, log, registry, runtime, caches, observed }) {
    const closers = new Closers();
    return closers.guard(async () => {
      const geo = createGeoIpService({ paths: config.redirect.geoipPaths.length ? config.redirect.geoipPaths : defaultGeoIpPaths(), log: log.child({ component: 'geoip' }) });
      const geoStarted = await geo.start();
      if (!geoStarted.ok) throw new Error(`GeoIP database: ${geoStarted.error}`);
      closers.add(() => geo.close());
      const metrics = registerRedirectMetrics(registry, () => geo.buildTimestampSeconds());
      // Rebuilt whenever a snapshot, the fleet or a run's status changes, never per request.
      let routing: RoutingTable | undefined;
      registerRoutingMetrics(registry, () => routing);
      const rebuild = (): void => {
        const fleet = observed.fleet();
        const held = outOfRotation({ rollouts: caches.ProxyRollout.values(), canaries: caches.ProxyCanary.values(), fleet });
        routing = routingFor(fleet, observed.snapshot(), held, caches.ProxyCanary.values());
      };
      const following = new AbortController();
      closers.add(() => following.abort());
      observed.onSnapshot(rebuild, following.signal);
      observed.onObservation(rebuild, following.signal);
      observed.onFleet(rebuild, following.signal);
      caches.ProxyRollout.onChange(rebuild, following.signal);
      caches.ProxyCanary.onChange(rebuild, following.signal);
      rebuild();

      const canaryKey = await readCanaryKey(config.redirect.canaryKeyFile);
      const nowSeconds = (): number => Math.floor(runtime.clock.now() / 1000);
      // Who opted in, as a count of invitations: in the metrics and, offered, in the canary view.
      const invitations = canaryKey ? createInvitationCounter() : undefined;
      const activeInvitations = invitations && (() => invitations.active(nowSeconds(), (c) => routing?.canaries[c] !== undefined));
      if (activeInvitations) registerInvitationMetrics(registry, activeInvitations);
      const redirects = createRedirectService({
        routing: () => routing,
        geo: () => geo.current(),
        trusted: config.redirect.trusted,
        metrics,
        now: () => performance.now(),
        cacheSize: 100_000,
        nowSeconds,
        ...(canaryKey ? { canaryKey, invitations } : {}),
      });
      const publicApp = await buildPublicApp({ log, redirects });
      closers.add(() => publicApp.close());
      const loginUrl = await publicApp.listen({ host: config.public.host, port: config.public.port });
      return { close: closers.close, offers: { loginUrl, explain: (ip, region, canary) => redirects.explain(ip, region, canary), ...(activeInvitations ? { activeInvitations: () => invitationsByCanary(activeInvitations()) } : {}) } };
    });
  },
};
