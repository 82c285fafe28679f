import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { defaultGeoIpPaths } from '../../src/adapters/geoip/default-paths.js';
import { Reader, type Response } from 'maxmind';
import { openGeoDatabase, type GeoDatabase, type GeoLookup } from '../../src/adapters/geoip/geo-database.js';
import { toGeoLocation } from '../../src/adapters/geoip/geo-location.js';
import { Prng } from '../../src/sim/prng.js';
import {
  CORRUPT_GARBLED_DB,
  CORRUPT_TRUNCATED_DB,
  EPOCH_MAIN,
  FLAT_DBS,
  GEOIP2_DB,
  distanceKm,
  fixture,
  tempDir,
} from './helpers.js';

async function open(paths: readonly string[]): Promise<GeoDatabase> {
  const db = await openGeoDatabase(paths);
  if (!db.ok) assert.fail(db.error);
  return db.value;
}

/** The location found, with its coordinates. */
function located(answer: GeoLookup, ip: string) {
  assert.equal(answer.result, 'found', `${ip}: ${JSON.stringify(answer)}`);
  assert.ok(answer.result === 'found');
  const { latitude, longitude } = answer.location;
  assert.ok(latitude !== undefined && longitude !== undefined, `${ip}: no coordinates`);
  return { ...answer.location, latitude, longitude };
}

// The networks generate.pl writes, with the city centres it gives them.
const FIXTURE_TABLE = [
  { ip: '133.11.0.77', country: 'JP', continent: 'AS', city: 'Tokyo', latitude: 35.6895, longitude: 139.6917, radius: 50 },
  { ip: '81.2.69.142', country: 'GB', continent: 'EU', city: 'London', latitude: 51.5142, longitude: -0.0931, radius: 10 },
  { ip: '128.135.10.1', country: 'US', continent: 'NA', city: 'Chicago', latitude: 41.7897, longitude: -87.5997, radius: 5 },
  { ip: '143.107.255.254', country: 'BR', continent: 'SA', city: 'São Paulo', latitude: -23.5613, longitude: -46.7308, radius: 20 },
  { ip: '129.78.5.8', country: 'AU', continent: 'OC', city: 'Sydney', latitude: -33.8888, longitude: 151.1872, radius: 10 },
  { ip: '128.59.0.1', country: 'US', continent: 'NA', city: 'New York', latitude: 40.8075, longitude: -73.9626, radius: 5 },
  { ip: '141.2.1.1', country: 'DE', continent: 'EU', city: 'Frankfurt am Main', latitude: 50.1109, longitude: 8.6821, radius: 20 },
  { ip: '146.141.8.1', country: 'ZA', continent: 'AF', city: 'Johannesburg', latitude: -26.1929, longitude: 28.0305, radius: 20 },
  { ip: '2001:200:dff:fff1:216:3eff:feb1:44d7', country: 'JP', continent: 'AS', city: 'Tokyo', latitude: 35.6895, longitude: 139.6917, radius: 50 },
  { ip: '::ffff:146.141.8.1', country: 'ZA', continent: 'AF', city: 'Johannesburg', latitude: -26.1929, longitude: 28.0305, radius: 20 },
] as const;

test('GeoIP2 City test database: each network gives its country, continent, city and coordinates', async () => {
  const db = await open([GEOIP2_DB]);
  assert.deepEqual(db.info, { paths: [GEOIP2_DB], databaseType: 'GeoIP2-City', buildEpochSeconds: EPOCH_MAIN, schema: 'geoip2' });
  for (const row of FIXTURE_TABLE) {
    assert.deepEqual(
      db.lookup(row.ip),
      {
        result: 'found',
        location: { countryCode: row.country, continentCode: row.continent, city: row.city, latitude: row.latitude, longitude: row.longitude, accuracyRadiusKm: row.radius },
      },
      row.ip,
    );
  }
  // A range placed only in a country: usable for pins, not for distances.
  assert.deepEqual(db.lookup('1.130.4.5'), { result: 'found', location: { countryCode: 'AU', continentCode: 'OC' } });
  // Outside every network, and a range known only by its registered country.
  assert.deepEqual(db.lookup('8.8.8.8'), { result: 'not_found' });
  assert.deepEqual(db.lookup('2001:4860:4860::8888'), { result: 'not_found' });
  assert.deepEqual(db.lookup('9.9.9.9'), { result: 'not_found' });
});

test('answers are kept by record, bounded, for the life of the database object', async () => {
  const opened = await openGeoDatabase([GEOIP2_DB], { answerCacheSize: 4 });
  if (!opened.ok) assert.fail(opened.error);
  const db = opened.value;
  // Two addresses of one network share its record, and so its answer object.
  const first = db.lookup('133.11.0.77');
  assert.equal(db.lookup('133.11.0.78'), first);
  for (const row of FIXTURE_TABLE.slice(1, 7)) db.lookup(row.ip);
  const again = db.lookup('133.11.0.77');
  assert.notEqual(again, first, 'pushed out by newer records');
  assert.deepEqual(again, first);
  // Another database object (a reload) keeps its own.
  assert.notEqual((await open([GEOIP2_DB])).lookup('133.11.0.77'), again);
});

test('the search tree walk finds the record maxmind\'s reader finds, for random IPv4 and IPv6 addresses', async () => {
  const paths = defaultGeoIpPaths();
  const db = await open(paths);
  const readers = await Promise.all(paths.map(async (p) => new Reader<Response>(await readFile(p))));
  const [v4, v6]: (Reader<Response> | undefined)[] = readers;
  assert.ok(v4 && v6);
  const readerFor = (ip: string): Reader<Response> => (ip.includes(':') ? v6 : v4);
  const rng = new Prng(5);
  const hex = (): string => rng.int(0x10000).toString(16);
  let found = 0;
  for (let i = 0; i < 3000; i++) {
    const ip = i % 3 === 2 ? `2${rng.int(0x1000).toString(16).padStart(3, '0')}:${hex()}:${hex()}:${hex()}::${hex()}` : `${1 + rng.int(223)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
    const got = db.lookup(ip);
    if (got.result === 'private') continue;
    const record: unknown = readerFor(ip).get(ip);
    const want = record === null ? undefined : toGeoLocation(record, 'flat');
    if (want === undefined || (want.ok && want.value === undefined)) assert.deepEqual(got, { result: 'not_found' }, ip);
    else {
      assert.ok(want.ok);
      assert.deepEqual(got, { result: 'found', location: want.value }, ip);
      found++;
    }
  }
  assert.ok(found > 1500, `${found} addresses found: both walks must be exercised`);
});

test('flat test databases (IPv4 and IPv6 files) give the same places, the continent from the country', async () => {
  const db = await open(FLAT_DBS);
  assert.equal(db.info.schema, 'flat');
  assert.equal(db.info.databaseType, 'city ipv4 + city ipv6');
  for (const row of FIXTURE_TABLE) {
    const location = located(db.lookup(row.ip), row.ip);
    assert.equal(location.countryCode, row.country, row.ip);
    assert.equal(location.continentCode, row.continent, row.ip);
    assert.equal(location.city, row.city, row.ip);
    // Stored as 32-bit floats in this layout.
    assert.ok(Math.abs(location.latitude - row.latitude) < 1e-4 && Math.abs(location.longitude - row.longitude) < 1e-4, row.ip);
    assert.equal(location.accuracyRadiusKm, undefined);
  }
});

const bundled = await open(defaultGeoIpPaths());

// Stable, well-known addresses; only the country and the rough place are asserted.
const BUNDLED_TABLE = [
  { ip: '8.8.8.8', note: 'Google Public DNS', country: 'US', continent: 'NA', near: { latitude: 39.8, longitude: -98.6 }, withinKm: 3000 },
  { ip: '2001:4860:4860::8888', note: 'Google Public DNS', country: 'US', continent: 'NA', near: { latitude: 39.8, longitude: -98.6 }, withinKm: 3000 },
  { ip: '128.59.1.1', note: 'Columbia University', country: 'US', continent: 'NA', near: { latitude: 40.81, longitude: -73.96 }, withinKm: 300 },
  { ip: '133.11.0.1', note: 'The University of Tokyo', country: 'JP', continent: 'AS', near: { latitude: 35.69, longitude: 139.69 }, withinKm: 300 },
  { ip: '2001:200::1', note: 'WIDE Project', country: 'JP', continent: 'AS', near: { latitude: 35.69, longitude: 139.69 }, withinKm: 500 },
  { ip: '164.100.1.1', note: 'National Informatics Centre, India', country: 'IN', continent: 'AS', near: { latitude: 28.61, longitude: 77.21 }, withinKm: 1500 },
  { ip: '81.2.69.142', note: "MaxMind's London test address", country: 'GB', continent: 'EU', near: { latitude: 51.51, longitude: -0.13 }, withinKm: 300 },
  { ip: '193.0.6.139', note: 'RIPE NCC', country: 'NL', continent: 'EU', near: { latitude: 52.37, longitude: 4.9 }, withinKm: 300 },
  { ip: '2001:67c:2e8:22::c100:68b', note: 'RIPE NCC', country: 'NL', continent: 'EU', near: { latitude: 52.37, longitude: 4.9 }, withinKm: 300 },
  { ip: '141.2.1.1', note: 'Goethe University Frankfurt', country: 'DE', continent: 'EU', near: { latitude: 50.11, longitude: 8.68 }, withinKm: 300 },
  { ip: '129.132.1.1', note: 'ETH Zurich', country: 'CH', continent: 'EU', near: { latitude: 47.38, longitude: 8.54 }, withinKm: 200 },
  { ip: '200.160.2.3', note: 'NIC.br', country: 'BR', continent: 'SA', near: { latitude: -23.55, longitude: -46.63 }, withinKm: 500 },
  { ip: '129.78.5.8', note: 'The University of Sydney', country: 'AU', continent: 'OC', near: { latitude: -33.87, longitude: 151.21 }, withinKm: 300 },
  { ip: '146.141.8.1', note: 'University of the Witwatersrand', country: 'ZA', continent: 'AF', near: { latitude: -26.2, longitude: 28.05 }, withinKm: 300 },
] as const;

test('bundled flat database: well-known addresses land in the right country and region', () => {
  assert.equal(bundled.info.schema, 'flat');
  assert.deepEqual(bundled.info.paths, defaultGeoIpPaths());
  assert.ok(bundled.info.buildEpochSeconds > Date.UTC(2024, 0, 1) / 1000, `build ${bundled.info.buildEpochSeconds}`);
  for (const row of BUNDLED_TABLE) {
    const location = located(bundled.lookup(row.ip), `${row.ip} (${row.note})`);
    assert.equal(location.countryCode, row.country, `${row.ip} (${row.note})`);
    assert.equal(location.continentCode, row.continent, `${row.ip} (${row.note})`);
    const km = distanceKm(location, row.near);
    assert.ok(km < row.withinKm, `${row.ip} (${row.note}) is ${Math.round(km)} km from where it should be`);
  }
});

test('the bundled files are found through the package, not a fixed path', () => {
  const paths = defaultGeoIpPaths();
  assert.equal(paths.length, 2);
  assert.match(paths[0] ?? '', /@ip-location-db[\\/]geolite2-city-mmdb[\\/]geolite2-city-ipv4\.mmdb$/);
  assert.match(paths[1] ?? '', /@ip-location-db[\\/]geolite2-city-mmdb[\\/]geolite2-city-ipv6\.mmdb$/);
});

test('private, loopback, link-local, CGNAT and ULA addresses are answered without a lookup', async () => {
  for (const db of [bundled, await open([GEOIP2_DB])]) {
    for (const ip of ['10.0.0.1', '192.168.10.20', '172.20.1.1', '127.0.0.1', '169.254.169.254', '100.64.1.1', '::1', 'fd00:1234::5', 'fe80::1%eth0', '::ffff:192.168.1.1']) {
      assert.equal(db.lookup(ip).result, 'private', ip);
    }
  }
});

test('garbage is invalid, with the reason', () => {
  for (const ip of ['', 'not-an-ip', '999.1.1.1', '1.2.3', '8.8.8.8, 1.1.1.1', '[2001:db8::1]', '2001:::1', '<script>', 'x'.repeat(10_000)]) {
    const answer = bundled.lookup(ip);
    assert.equal(answer.result, 'invalid', JSON.stringify(ip.slice(0, 20)));
    assert.ok(answer.result === 'invalid' && answer.reason.length > 0);
  }
});

test('lookups are fast once the records are cached', (t) => {
  const ips = BUNDLED_TABLE.map((r) => r.ip);
  for (const ip of ips) bundled.lookup(ip);
  const n = 200_000;
  const started = performance.now();
  let found = 0;
  for (let i = 0; i < n; i++) if (bundled.lookup(ips[i % ips.length] ?? '').result === 'found') found++;
  const microseconds = ((performance.now() - started) * 1000) / n;
  t.diagnostic(`${microseconds.toFixed(2)} µs per lookup (bundled database, ${ips.length} addresses, v4 and v6)`);
  assert.equal(found, n);
  // Generous, for slow CI machines; typical is about 2 µs.
  assert.ok(microseconds < 50, `${microseconds} µs per lookup`);
});

test('a file that is not a MaxMind DB gives an error naming the path', async (t) => {
  const dir = await tempDir(t);
  const empty = join(dir, 'empty.mmdb');
  await writeFile(empty, '');
  const gzipped = join(dir, 'city.mmdb.gz');
  await writeFile(gzipped, gzipSync(await readFile(GEOIP2_DB)));
  const script = fixture('generate.pl');
  const missing = join(dir, 'missing.mmdb');
  const cases: [string[], string, RegExp][] = [
    [[script], script, /not a MaxMind DB file/],
    [[missing], missing, /cannot read: ENOENT/],
    [[dir], dir, /cannot read: EISDIR/],
    [[empty], empty, /empty file/],
    [[gzipped], gzipped, /gzip-compressed/],
    [[CORRUPT_TRUNCATED_DB], CORRUPT_TRUNCATED_DB, /not a MaxMind DB file/],
    [[CORRUPT_GARBLED_DB], CORRUPT_GARBLED_DB, /^corrupt: reading the record for .* failed/],
    [[GEOIP2_DB, script], script, /not a MaxMind DB file/],
    [[fixture('geoip2-country-test.mmdb')], fixture('geoip2-country-test.mmdb'), /has coordinates; a City database is needed, not "GeoIP2-Country"/],
    [[GEOIP2_DB, ...FLAT_DBS], FLAT_DBS[0], /has the flat layout but .*geoip2-city-test\.mmdb has the geoip2 layout/],
    [[], '(none)', /no GeoIP database file given/],
  ];
  for (const [paths, file, reason] of cases) {
    const db = await openGeoDatabase(paths);
    assert.equal(db.ok, false, paths.join(', '));
    if (db.ok) continue;
    assert.ok(db.error.startsWith(`${file}: `), `${db.error} should start with ${file}`);
    assert.match(db.error.slice(file.length + 2), reason);
  }
});
