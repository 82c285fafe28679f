import type { ProxyFleetSpec } from '../model/fleet.js';
import type { FleetSimOptions, SimProxyOptions } from './options.js';

function defaultPort(url: URL): number {
  return url.protocol === 'https:' ? 443 : 80;
}

/** URL hostnames keep IPv6 brackets; listeners want them bare. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Builds simulator options from a ProxyFleet spec: each proxy is served at the host:port of
 * its diagnosticUrl (always plain HTTP, as Teleport's diagnostic address is) and reports
 * its spec version.
 */
export function simOptionsFromFleet(spec: ProxyFleetSpec, extra: Partial<Omit<FleetSimOptions, 'proxies'>> = {}): FleetSimOptions {
  const proxies = spec.proxies.map((p): SimProxyOptions => {
    const diag = new URL(p.diagnosticUrl);
    const pub = new URL(p.publicUrl);
    return {
      name: p.name,
      region: p.region,
      version: p.version,
      host: bareHost(diag),
      port: diag.port ? Number(diag.port) : defaultPort(diag),
      publicAddr: `${pub.hostname}:${pub.port || defaultPort(pub)}`,
    };
  });
  return { ...extra, proxies };
}
