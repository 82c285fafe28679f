import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultGeoIpPaths, openGeoDatabase } from '../../src/adapters/geoip/index.js';
import { chooseProxy } from '../../src/redirect/core/choose-proxy.js';
import { regionsDown, table } from './core/redirect-fixture.js';

/**
 * Real public addresses, looked up in the bundled GeoLite2 database, then routed over the
 * six-region test fleet (tokyo, sydney, london, chicago, new-york, sao-paulo).
 * Owners: universities and registries whose location is stable.
 */
const CASES: readonly { ip: string; owner: string; country: string; region: string }[] = [
  { ip: '133.11.0.1', owner: 'University of Tokyo', country: 'JP', region: 'tokyo' },
  { ip: '202.12.27.33', owner: 'WIDE (M-root), Tokyo', country: 'JP', region: 'tokyo' },
  { ip: '2001:200::1', owner: 'WIDE Project IPv6', country: 'JP', region: 'tokyo' },
  { ip: '129.78.1.1', owner: 'University of Sydney', country: 'AU', region: 'sydney' },
  { ip: '130.102.1.1', owner: 'University of Queensland, Brisbane', country: 'AU', region: 'sydney' },
  { ip: '163.1.1.1', owner: 'University of Oxford', country: 'GB', region: 'london' },
  { ip: '141.2.1.1', owner: 'Goethe University Frankfurt', country: 'DE', region: 'london' },
  { ip: '128.135.1.1', owner: 'University of Chicago', country: 'US', region: 'chicago' },
  { ip: '128.59.1.1', owner: 'Columbia University, New York', country: 'US', region: 'new-york' },
  { ip: '143.107.1.1', owner: 'Universidade de São Paulo', country: 'BR', region: 'sao-paulo' },
  { ip: '200.89.75.1', owner: 'Santiago de Chile', country: 'CL', region: 'sao-paulo' },
  { ip: '146.141.1.1', owner: 'University of the Witwatersrand, Johannesburg', country: 'ZA', region: 'sao-paulo' },
];

test('real public addresses from six continents go to the nearest region through the bundled database', async () => {
  const db = await openGeoDatabase(defaultGeoIpPaths());
  assert.ok(db.ok, db.ok ? '' : db.error);
  const routing = table();
  for (const c of CASES) {
    const found = db.value.lookup(c.ip);
    assert.equal(found.result, 'found', `${c.ip} (${c.owner})`);
    if (found.result !== 'found') continue;
    assert.equal(found.location.countryCode, c.country, `${c.ip} (${c.owner})`);
    const d = chooseProxy({ location: found.location, clientKey: c.ip }, routing);
    assert.equal(d.kind === 'proxy' ? d.region : d.reason, c.region, `${c.ip} (${c.owner})`);
  }
});

test('with Tokyo down, Tokyo clients go to the next nearest region (Sydney)', async () => {
  const db = await openGeoDatabase(defaultGeoIpPaths());
  assert.ok(db.ok);
  const found = db.value.lookup('133.11.0.1');
  assert.equal(found.result, 'found');
  const d = chooseProxy({ location: found.result === 'found' ? found.location : undefined, clientKey: 'x' }, table({ patch: regionsDown('tokyo') }));
  assert.equal(d.kind === 'proxy' && d.region, 'sydney');
});
