import type { ProxyFleetSpec } from '../../model/fleet.js';
import { distanceKm } from '../../redirect/core/geo-distance.js';

/**
 * The proxies a canary proxy is compared with: those of its own region that are not canaries and
 * run the previous version; if its region has none, those of the nearest region that has some.
 */
export function baselineProxies(fleet: ProxyFleetSpec, canaryProxy: string, canaries: ReadonlySet<string>, isBaseline: (proxy: string) => boolean): string[] {
  const region = fleet.proxies.find((p) => p.name === canaryProxy)?.region;
  const candidates = (r: string) => fleet.proxies.filter((p) => p.region === r && !canaries.has(p.name) && isBaseline(p.name)).map((p) => p.name);
  const own = region ? candidates(region) : [];
  if (own.length || !region) return own;
  const home = fleet.regions.find((r) => r.name === region);
  if (!home) return [];
  const others = fleet.regions
    .filter((r) => r.name !== region)
    .map((r) => ({ r, km: distanceKm(home, r) }))
    .sort((a, b) => a.km - b.km);
  for (const { r } of others) {
    const found = candidates(r.name);
    if (found.length) return found;
  }
  return [];
}
