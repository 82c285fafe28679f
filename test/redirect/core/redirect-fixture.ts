import type { ProxyFleetSpec, Region } from '../../../src/model/fleet.js';
import type { FleetSnapshot, ProxyObservation } from '../../../src/model/snapshot.js';
import type { ClientLocation } from '../../../src/redirect/core/choose-proxy.js';
import type { RedirectPins } from '../../../src/model/fleet.js';
import { buildRoutingTable, type CanaryRoute, type LoadTolerance, type RoutingTable } from '../../../src/redirect/core/routing-table.js';
import { observation, snapshot } from '../../helpers/snapshot-fixture.js';

function region(name: string, latitude: number, longitude: number, timeZone: string, extra: Partial<Region> = {}): Region {
  return { name, latitude, longitude, timeZone, ...extra };
}

export const REGIONS: readonly Region[] = [
  region('tokyo', 35.68, 139.69, 'Asia/Tokyo'),
  region('sydney', -33.87, 151.21, 'Australia/Sydney'),
  region('london', 51.51, -0.13, 'Europe/London', { default: true }),
  region('chicago', 41.88, -87.63, 'America/Chicago'),
  region('new-york', 40.71, -74.01, 'America/New_York'),
  region('sao-paulo', -23.55, -46.63, 'America/Sao_Paulo'),
];

const PROXIES_PER_REGION: Readonly<Record<string, number>> = { tokyo: 3, sydney: 2, london: 3, chicago: 2, 'new-york': 2, 'sao-paulo': 2 };

export const url = (proxy: string): string => `https://${proxy}.proxy.example.com`;

/** Six regions, two or three proxies each, every proxy with capacity 500. */
export function redirectFleet(overrides: Partial<ProxyFleetSpec> = {}): ProxyFleetSpec {
  const proxies = REGIONS.flatMap((r) =>
    Array.from({ length: PROXIES_PER_REGION[r.name] ?? 0 }, (_, i) => ({
      name: `${r.name}-${i + 1}`,
      region: r.name,
      publicUrl: url(`${r.name}-${i + 1}`),
      diagnosticUrl: `http://10.0.0.1:${3000 + i}`,
      version: '17.4.2',
      capacity: 500,
    })),
  );
  return { regions: [...REGIONS], proxies, ...overrides };
}

/** Every proxy up and ready with `sessions` (default 100) sessions; `patch` changes single proxies. */
export function fleetSnapshot(
  spec: ProxyFleetSpec,
  patch: Readonly<Record<string, Partial<ProxyObservation> | null>> = {},
  sessions = 100,
): FleetSnapshot {
  const proxies = spec.proxies.flatMap((p) => {
    const change = patch[p.name];
    if (change === null) return []; // never observed
    return [observation(p.name, p.region, { sessionsTotal: sessions, ...change })];
  });
  return snapshot(proxies);
}

export interface TableOptions {
  readonly spec?: ProxyFleetSpec;
  readonly patch?: Readonly<Record<string, Partial<ProxyObservation> | null>>;
  readonly sessions?: number;
  readonly outOfRotation?: readonly string[];
  readonly pins?: RedirectPins;
  readonly loadTolerance?: LoadTolerance;
  readonly canaries?: readonly CanaryRoute[];
}

export function table(o: TableOptions = {}): RoutingTable {
  const spec = o.spec ?? redirectFleet();
  return buildRoutingTable(spec, fleetSnapshot(spec, o.patch, o.sessions), {
    outOfRotation: new Set(o.outOfRotation ?? []),
    ...(o.pins ? { pins: o.pins } : {}),
    ...(o.loadTolerance ? { loadTolerance: o.loadTolerance } : {}),
    ...(o.canaries ? { canaries: o.canaries } : {}),
  });
}

/** Every proxy of the named regions down. */
export function regionsDown(...regions: string[]): Record<string, Partial<ProxyObservation>> {
  const spec = redirectFleet();
  return Object.fromEntries(spec.proxies.filter((p) => regions.includes(p.region)).map((p) => [p.name, { up: false, ready: false }]));
}

/** Every proxy of the named regions at capacity. */
export function regionsFull(...regions: string[]): Record<string, Partial<ProxyObservation>> {
  const spec = redirectFleet();
  return Object.fromEntries(spec.proxies.filter((p) => regions.includes(p.region)).map((p) => [p.name, { sessionsTotal: 500 }]));
}

export const CITIES = {
  osaka: { latitude: 34.69, longitude: 135.5, countryCode: 'JP', continentCode: 'AS' },
  seoul: { latitude: 37.57, longitude: 126.98, countryCode: 'KR', continentCode: 'AS' },
  paris: { latitude: 48.86, longitude: 2.35, countryCode: 'FR', continentCode: 'EU' },
  toronto: { latitude: 43.65, longitude: -79.38, countryCode: 'CA', continentCode: 'NA' },
  boston: { latitude: 42.36, longitude: -71.06, countryCode: 'US', continentCode: 'NA' },
  buenosAires: { latitude: -34.6, longitude: -58.38, countryCode: 'AR', continentCode: 'SA' },
  auckland: { latitude: -36.85, longitude: 174.76, countryCode: 'NZ', continentCode: 'OC' },
  lagos: { latitude: 6.52, longitude: 3.38, countryCode: 'NG', continentCode: 'AF' },
  singapore: { latitude: 1.35, longitude: 103.82, countryCode: 'SG', continentCode: 'AS' },
} as const satisfies Record<string, ClientLocation>;
