import type { ProxyCanarySpec } from '../../model/canary.js';
import { countOf } from '../../model/count-or-percent.js';
import type { FieldError } from '../../model/field-error.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import { err, ok, type Result } from '../../model/result.js';

/**
 * The proxies a canary runs on: named ones, N (or N%) of each region's ready proxies in fleet
 * order, or those with the labels. Never a region's last ready proxy: users who did not opt in
 * must always have one left.
 */
export function selectCanaryProxies(spec: ProxyCanarySpec, fleet: ProxyFleetSpec, isReady: (proxy: string) => boolean): Result<string[], FieldError[]> {
  const s = spec.subset;
  const ways = [s.proxies, s.perRegion, s.matchLabels].filter((x) => x !== undefined).length;
  if (ways !== 1) return err([{ path: ['spec', 'subset'], message: 'give exactly one of proxies, perRegion or matchLabels' }]);
  const errors: FieldError[] = [];
  let chosen: string[] = [];
  if (s.proxies) {
    s.proxies.forEach((name, i) => {
      if (!fleet.proxies.some((p) => p.name === name)) errors.push({ path: ['spec', 'subset', 'proxies', i], message: `proxy "${name}" is not in the fleet` });
    });
    chosen = [...s.proxies];
  } else if (s.matchLabels) {
    const labels = s.matchLabels;
    chosen = fleet.proxies.filter((p) => Object.entries(labels).every(([k, v]) => p.labels?.[k] === v)).map((p) => p.name);
    if (!chosen.length) errors.push({ path: ['spec', 'subset', 'matchLabels'], message: 'no proxy of the fleet carries these labels' });
  } else if (s.perRegion !== undefined) {
    const per = s.perRegion;
    s.regions?.forEach((r, i) => {
      if (!fleet.regions.some((x) => x.name === r)) errors.push({ path: ['spec', 'subset', 'regions', i], message: `region "${r}" is not in the fleet` });
    });
    for (const region of fleet.regions) {
      if (s.regions && !s.regions.includes(region.name)) continue;
      const members = fleet.proxies.filter((p) => p.region === region.name);
      const ready = members.filter((p) => !p.cordoned && isReady(p.name));
      const want = countOf(per, members.length);
      chosen.push(...ready.slice(0, Math.min(want, ready.length - 1)).map((p) => p.name));
    }
    if (!chosen.length) errors.push({ path: ['spec', 'subset', 'perRegion'], message: 'no region has a ready proxy to spare: each keeps its last ready one' });
  }
  if (errors.length) return err(errors);
  for (const region of fleet.regions) {
    const ready = fleet.proxies.filter((p) => p.region === region.name && !p.cordoned && isReady(p.name));
    if (ready.length && ready.every((p) => chosen.includes(p.name)))
      errors.push({ path: ['spec', 'subset'], message: `takes every ready proxy of region "${region.name}": its last ready proxy must stay on the current build` });
  }
  return errors.length ? err(errors) : ok(chosen);
}
