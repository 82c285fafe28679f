import { countOf } from '../../model/count-or-percent.js';
import { durationOr } from '../../model/duration.js';
import type { MaintenanceWindow, Proxy, ProxyFleetSpec } from '../../model/fleet.js';
import type { NoticeSeverity, ProxyRolloutProxyStatus, ProxyRolloutSpec, ProxyRolloutStatus } from '../../model/rollout.js';
import { selectTargets } from '../../model/rollout-rules.js';

/** A rollout spec with every default filled in and every duration in ms. */
export interface RolloutSettings {
  readonly version: string;
  readonly image?: string;
  readonly artifact?: string;
  /** Targeted proxies, wave by wave, in fleet order inside a wave. */
  readonly waves: readonly (readonly string[])[];
  readonly targets: readonly Proxy[];
  readonly maxUnavailable: (regionSize: number) => number;
  readonly allowRegionOutage: boolean;
  readonly windows: (region: string) => { readonly windows: readonly MaintenanceWindow[]; readonly timeZone: string };
  /** Longest first. */
  readonly leadTimes: readonly { readonly text: string; readonly ms: number }[];
  readonly message: string;
  readonly severity: NoticeSeverity;
  readonly channels: readonly string[];
  readonly blockOnNoticeFailure: boolean;
  readonly drainDeadlineMs: number;
  readonly meanSessionMs: number;
  readonly verifyScrapes: number;
  readonly verifyTimeoutMs: number;
  readonly rollbackOnFailure: boolean;
}

export const DEFAULT_LEAD_TIMES = ['24h', '1h', '10m'] as const;
export const DEFAULT_MESSAGE =
  'Teleport proxy {proxies} ({region}) will be upgraded to {version} in the maintenance window starting {localTime} ({utcTime}). Open sessions will be closed; log in again at the usual URL to reach another proxy.';

/** How long a drain may take before its sessions are cut (`spec.drain.deadline`, 2h by default). */
export function drainDeadlineMs(spec: Pick<ProxyRolloutSpec, 'drain'>): number {
  return durationOr(spec.drain?.deadline, '2h');
}

/** The regions a rollout touches, in wave order: the spec's waves, or one wave per region in fleet order. */
export function waveRegions(spec: ProxyRolloutSpec, fleet: ProxyFleetSpec, targets: readonly Proxy[]): string[][] {
  const touched = new Set(targets.map((p) => p.region));
  if (spec.waves) return spec.waves.map((w) => w.regions.filter((r) => touched.has(r)));
  return fleet.regions.filter((r) => touched.has(r.name)).map((r) => [r.name]);
}

export function resolveSettings(spec: ProxyRolloutSpec, fleet: ProxyFleetSpec): RolloutSettings {
  const targets = selectTargets(spec, fleet);
  const regionWaves = waveRegions(spec, fleet, targets);
  const waves = regionWaves.map((regions) => targets.filter((p) => regions.includes(p.region)).map((p) => p.name));
  const mu = spec.maxUnavailable ?? 1;
  const leadTexts = spec.notice?.leadTimes ?? [...DEFAULT_LEAD_TIMES];
  return {
    version: spec.version,
    ...(spec.image ? { image: spec.image } : {}),
    ...(spec.artifact ? { artifact: spec.artifact } : {}),
    waves,
    targets,
    maxUnavailable: (size) => countOf(mu, size),
    allowRegionOutage: spec.allowRegionOutage ?? false,
    windows: (region) => {
      const r = fleet.regions.find((x) => x.name === region);
      return { windows: spec.maintenanceWindows?.[region] ?? r?.maintenanceWindows ?? [], timeZone: r?.timeZone ?? 'UTC' };
    },
    leadTimes: leadTexts.map((text) => ({ text, ms: durationOr(text, '0s') })).sort((a, b) => b.ms - a.ms),
    message: spec.notice?.message ?? DEFAULT_MESSAGE,
    severity: spec.notice?.severity ?? 'medium',
    channels: (spec.notice?.channels ?? []).map((c) => c.name),
    blockOnNoticeFailure: (spec.notice?.onFailure ?? 'block') === 'block',
    drainDeadlineMs: drainDeadlineMs(spec),
    meanSessionMs: durationOr(spec.drain?.meanSessionDuration, '30m'),
    verifyScrapes: spec.verify?.consecutiveScrapes ?? 3,
    verifyTimeoutMs: durationOr(spec.verify?.timeout, '10m'),
    rollbackOnFailure: spec.failurePolicy === 'rollback',
  };
}

/**
 * The settings of a running rollout: its target (version, image, artifact) stays the one it started
 * with, and so do its waves, which the proxies in the status are numbered by (a region that left the
 * fleet would otherwise shift every later wave).
 */
export function settingsFor(spec: ProxyRolloutSpec, fleet: ProxyFleetSpec, status: ProxyRolloutStatus): RolloutSettings {
  const s = resolveSettings(spec, fleet);
  const image = status.image ?? s.image;
  const artifact = status.artifact ?? s.artifact;
  const waves = status.startedAt && status.proxies ? plannedWaves(status.proxies) : s.waves;
  return { ...s, version: status.version ?? s.version, waves, ...(image ? { image } : {}), ...(artifact ? { artifact } : {}) };
}

/** The proxies of each wave as the status numbered them at the start. */
function plannedWaves(proxies: readonly ProxyRolloutProxyStatus[]): string[][] {
  const waves: string[][] = [];
  for (const p of proxies) (waves[p.wave] ??= []).push(p.name);
  return Array.from(waves, (w) => w ?? []);
}
