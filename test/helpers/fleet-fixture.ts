import type { ProxyFleet, ProxyFleetSpec } from '../../src/model/fleet.js';
import { API_VERSION } from '../../src/model/resource.js';

/** A small valid fleet: two regions, three proxies. */
export function fleetSpec(overrides: Partial<ProxyFleetSpec> = {}): ProxyFleetSpec {
  return {
    regions: [
      { name: 'tokyo', displayName: 'Tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
      { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
    ],
    proxies: [
      { name: 'tokyo-1', region: 'tokyo', publicUrl: 'https://tokyo-1.example.com', diagnosticUrl: 'http://127.0.0.1:1', version: '17.4.2' },
      { name: 'tokyo-2', region: 'tokyo', publicUrl: 'https://tokyo-2.example.com', diagnosticUrl: 'http://127.0.0.1:2', version: '17.4.2' },
      { name: 'london-1', region: 'london', publicUrl: 'https://london-1.example.com', diagnosticUrl: 'http://127.0.0.1:3', version: '17.4.2' },
    ],
    ...overrides,
  };
}

export function fleet(spec: ProxyFleetSpec = fleetSpec(), generation = 1): ProxyFleet {
  return { apiVersion: API_VERSION, kind: 'ProxyFleet', metadata: { name: 'demo', namespace: 'default', generation }, spec };
}
