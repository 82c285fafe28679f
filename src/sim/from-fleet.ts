import type { ProxyFleetSpec } from '../model/fleet.js';
import { compareVersions } from '../model/version-skew.js';
import type { FleetSimOptions, SimAuthOptions, SimProxyOptions } from './options.js';

function defaultPort(url: URL): number {
  return url.protocol === 'https:' ? 443 : 80;
}

/** URL hostnames keep IPv6 brackets; listeners want them bare. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The Auth Service of a fleet that names one, served at its first diagnostic URL (the other
 * instances of a highly available Auth Service stay unreachable). The spec says nothing of the
 * Auth version: it runs the newest version of the fleet's proxies, as Teleport upgrades Auth
 * first; `POST /auth/restart` changes it.
 */
function authFrom(spec: ProxyFleetSpec): SimAuthOptions | undefined {
  const first = spec.auth?.diagnosticUrls[0];
  if (first === undefined) return undefined;
  let version: string | undefined;
  for (const p of spec.proxies) if (version === undefined || (compareVersions(p.version, version) ?? 0) > 0) version = p.version;
  if (version === undefined) throw new RangeError('spec.auth: the simulated Auth Service runs the newest version of the fleet\'s proxies, and the fleet has none');
  const diag = new URL(first);
  return { version, host: bareHost(diag), port: diag.port ? Number(diag.port) : defaultPort(diag) };
}

/**
 * Builds simulator options from a ProxyFleet spec: each proxy is served at the host:port of
 * its diagnosticUrl (always plain HTTP, as Teleport's diagnostic address is) and reports
 * its spec version; so is the Auth Service (authFrom).
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
  const auth = authFrom(spec);
  return { ...extra, proxies, ...(auth ? { auth } : {}) };
}
