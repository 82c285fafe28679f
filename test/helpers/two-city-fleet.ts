import type { ProxyFleetSpec } from '../../src/model/fleet.js';

/** New York (nyc-1) and Chicago (chi-1, chi-2): the peering tests' fleet, each proxy on its own internal address. */
export const TWO_CITY_FLEET: ProxyFleetSpec = {
  regions: [
    { name: 'new-york', latitude: 40.71, longitude: -74.01, timeZone: 'America/New_York', default: true },
    { name: 'chicago', latitude: 41.88, longitude: -87.63, timeZone: 'America/Chicago' },
  ],
  proxies: [
    { name: 'nyc-1', region: 'new-york', publicUrl: 'https://nyc-1.example.com', diagnosticUrl: 'http://10.0.0.1:3000', version: '17.4.2' },
    { name: 'chi-1', region: 'chicago', publicUrl: 'https://chi-1.example.com', diagnosticUrl: 'http://10.0.1.1:3000', version: '17.4.2' },
    { name: 'chi-2', region: 'chicago', publicUrl: 'https://chi-2.example.com', diagnosticUrl: 'http://10.0.1.2:3000', version: '17.4.2' },
  ],
};
