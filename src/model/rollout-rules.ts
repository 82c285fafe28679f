import { parseDuration } from './duration.js';
import type { FieldError } from './field-error.js';
import type { Proxy, ProxyFleetSpec } from './fleet.js';
import type { ProxyRolloutSpec } from './rollout.js';

/** Rules a ProxyRollout must keep on its own (the schema cannot say them). */
export function rolloutSemanticErrors(spec: ProxyRolloutSpec): FieldError[] {
  const out: FieldError[] = [];
  (spec.notice?.leadTimes ?? []).forEach((t, i) => {
    const d = parseDuration(t);
    if (d.ok && d.value <= 0) out.push({ path: ['spec', 'notice', 'leadTimes', i], message: 'a notice lead time must be longer than 0' });
  });
  for (const [region, windows] of Object.entries(spec.maintenanceWindows ?? {}))
    windows.forEach((w, i) => {
      const d = parseDuration(w.duration);
      if (d.ok && d.value <= 0) out.push({ path: ['spec', 'maintenanceWindows', region, i, 'duration'], message: 'a window of length 0 never opens' });
    });
  const channels = new Map<string, number>();
  (spec.notice?.channels ?? []).forEach((c, i) => {
    const first = channels.get(c.name);
    if (first !== undefined) out.push({ path: ['spec', 'notice', 'channels', i, 'name'], message: `duplicate channel name "${c.name}" (first at index ${first})` });
    else channels.set(c.name, i);
  });
  const waveOf = new Map<string, number>();
  (spec.waves ?? []).forEach((w, i) =>
    w.regions.forEach((r, j) => {
      const first = waveOf.get(r);
      if (first !== undefined) out.push({ path: ['spec', 'waves', i, 'regions', j], message: `region "${r}" is already in spec.waves[${first}]` });
      else waveOf.set(r, i);
    }),
  );
  if (spec.paused && spec.aborted) out.push({ path: ['spec', 'paused'], message: 'an aborted rollout cannot also be paused: remove one of spec.paused and spec.aborted' });
  return out;
}

/** Rules that need the fleet the rollout upgrades: every name resolves, selectors agree, every region has a window. */
export function rolloutFleetErrors(spec: ProxyRolloutSpec, fleet: ProxyFleetSpec): FieldError[] {
  const out: FieldError[] = [];
  const regions = new Map(fleet.regions.map((r, i) => [r.name, i]));
  const proxies = new Map(fleet.proxies.map((p) => [p.name, p]));
  const s = spec.selector;
  s?.regions?.forEach((r, i) => {
    if (!regions.has(r)) out.push({ path: ['spec', 'selector', 'regions', i], message: `region "${r}" is not in the fleet` });
  });
  s?.proxies?.forEach((name, i) => {
    const p = proxies.get(name);
    if (!p) out.push({ path: ['spec', 'selector', 'proxies', i], message: `proxy "${name}" is not in the fleet` });
    else if (s.regions && !s.regions.includes(p.region))
      out.push({ path: ['spec', 'selector', 'proxies', i], message: `proxy "${name}" is in region "${p.region}", which spec.selector.regions leaves out: the selectors contradict each other` });
    else if (s.matchLabels && !Object.entries(s.matchLabels).every(([k, v]) => p.labels?.[k] === v))
      out.push({ path: ['spec', 'selector', 'proxies', i], message: `proxy "${name}" does not carry spec.selector.matchLabels: the selectors contradict each other` });
  });
  for (const r of Object.keys(spec.maintenanceWindows ?? {}))
    if (!regions.has(r)) out.push({ path: ['spec', 'maintenanceWindows', r], message: `region "${r}" is not in the fleet` });
  if (out.length) return out;

  const targets = selectTargets(spec, fleet);
  if (!targets.length) return [{ path: ['spec', 'selector'], message: 'selects no proxy of the fleet' }];
  const touched = new Set(targets.map((p) => p.region));
  const inWaves = new Set<string>();
  spec.waves?.forEach((w, i) =>
    w.regions.forEach((r, j) => {
      inWaves.add(r);
      if (!regions.has(r)) out.push({ path: ['spec', 'waves', i, 'regions', j], message: `region "${r}" is not in the fleet` });
      else if (!touched.has(r)) out.push({ path: ['spec', 'waves', i, 'regions', j], message: `region "${r}" has no proxy the selector picks: the waves and the selector contradict each other` });
    }),
  );
  if (spec.waves)
    for (const r of touched) if (!inWaves.has(r)) out.push({ path: ['spec', 'waves'], message: `region "${r}" has selected proxies but is in no wave` });
  for (const r of touched) {
    const i = regions.get(r) ?? 0;
    const windows = spec.maintenanceWindows?.[r] ?? fleet.regions[i]?.maintenanceWindows ?? [];
    const open = windows.some((w) => {
      const d = parseDuration(w.duration);
      return d.ok && d.value > 0;
    });
    if (!open)
      out.push({
        path: spec.maintenanceWindows?.[r] ? ['spec', 'maintenanceWindows', r] : ['spec', 'maintenanceWindows'],
        message: `region "${r}" has no maintenance window that ever opens: set spec.maintenanceWindows.${r} or the fleet's spec.regions[${i}].maintenanceWindows`,
      });
  }
  if (!spec.allowRegionOutage)
    for (const r of touched) {
      const inRotation = fleet.proxies.filter((p) => p.region === r && !p.cordoned).length;
      if (inRotation < 2)
        out.push({ path: ['spec', 'allowRegionOutage'], message: `region "${r}" has ${inRotation} proxy in rotation: upgrading it leaves the region with none; set allowRegionOutage: true to accept that` });
    }
  targets.forEach((p) => {
    if (!p.upgrade) out.push({ path: ['spec', 'selector'], message: `proxy "${p.name}" has no spec.proxies[].upgrade in the fleet, so nothing can upgrade it` });
  });
  return out;
}

/** The fleet's proxies a rollout's selector picks, in fleet order. */
export function selectTargets(spec: ProxyRolloutSpec, fleet: ProxyFleetSpec): Proxy[] {
  const s = spec.selector;
  return fleet.proxies.filter(
    (p) =>
      (!s?.regions || s.regions.includes(p.region)) &&
      (!s?.proxies || s.proxies.includes(p.name)) &&
      (!s?.matchLabels || Object.entries(s.matchLabels).every(([k, v]) => p.labels?.[k] === v)),
  );
}
