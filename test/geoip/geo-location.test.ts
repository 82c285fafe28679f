import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COUNTRY_CONTINENTS, continentOfCountry } from '../../src/adapters/geoip/country-continents.js';
import { detectGeoSchema, toGeoLocation, type GeoSchema } from '../../src/adapters/geoip/geo-location.js';

const tokyoGeoip2 = {
  city: { geoname_id: 1850147, names: { en: 'Tokyo', ja: '東京' } },
  continent: { code: 'AS', geoname_id: 6255147, names: { en: 'Asia' } },
  country: { geoname_id: 1861060, iso_code: 'JP', names: { en: 'Japan' } },
  location: { accuracy_radius: 50, latitude: 35.6895, longitude: 139.6917, time_zone: 'Asia/Tokyo' },
  registered_country: { iso_code: 'JP' },
};
const saoPauloFlat = {
  city: 'Sao Paulo',
  country_code: 'BR',
  latitude: -23.62929916381836,
  longitude: -46.635101318359375,
  postcode: '01000',
  state1: 'Sao Paulo',
  state2: '',
  timezone: 'America/Sao_Paulo',
};

test('a GeoIP2 City record maps to a GeoLocation', () => {
  assert.deepEqual(toGeoLocation(tokyoGeoip2, 'geoip2'), {
    ok: true,
    value: { countryCode: 'JP', continentCode: 'AS', latitude: 35.6895, longitude: 139.6917, accuracyRadiusKm: 50, city: 'Tokyo' },
  });
});

test('a flat record maps to a GeoLocation, the continent taken from the country', () => {
  assert.deepEqual(toGeoLocation(saoPauloFlat, 'flat'), {
    ok: true,
    value: { countryCode: 'BR', continentCode: 'SA', latitude: -23.62929916381836, longitude: -46.635101318359375, city: 'Sao Paulo' },
  });
});

test('optional parts may be missing', () => {
  const cases: [string, unknown, GeoSchema, unknown][] = [
    ['geoip2, coordinates only', { location: { latitude: 1, longitude: 2 } }, 'geoip2', { latitude: 1, longitude: 2 }],
    ['geoip2, continent from country', { country: { iso_code: 'TR' }, location: { latitude: 39, longitude: 35 } }, 'geoip2', { countryCode: 'TR', continentCode: 'AS', latitude: 39, longitude: 35 }],
    ['geoip2, city without English name', { city: { names: { de: 'München' } }, location: { latitude: 48.1, longitude: 11.6 } }, 'geoip2', { latitude: 48.1, longitude: 11.6 }],
    ['flat, empty city and country', { ...saoPauloFlat, city: '', country_code: '' }, 'flat', { latitude: -23.62929916381836, longitude: -46.635101318359375 }],
    ['flat, country unknown to the table', { country_code: 'ZZ', latitude: 0, longitude: 0 }, 'flat', { countryCode: 'ZZ', latitude: 0, longitude: 0 }],
    ['the poles and the antimeridian', { latitude: -90, longitude: 180 }, 'flat', { latitude: -90, longitude: 180 }],
  ];
  for (const [name, record, schema, expected] of cases) assert.deepEqual(toGeoLocation(record, schema), { ok: true, value: expected }, name);
});

test('a record with a country or continent but no coordinates places the client there, for pins', () => {
  const cases: [unknown, GeoSchema, unknown][] = [
    [{ country: { iso_code: 'CH' }, location: { time_zone: 'Europe/Zurich' } }, 'geoip2', { countryCode: 'CH', continentCode: 'EU' }],
    [{ country: { iso_code: 'AU' }, continent: { code: 'OC' }, registered_country: { iso_code: 'AU' } }, 'geoip2', { countryCode: 'AU', continentCode: 'OC' }],
    [{ continent: { code: 'EU' }, location: { accuracy_radius: 500 } }, 'geoip2', { continentCode: 'EU' }],
    [{ country_code: 'CH' }, 'flat', { countryCode: 'CH', continentCode: 'EU' }],
  ];
  for (const [record, schema, expected] of cases) assert.deepEqual(toGeoLocation(record, schema), { ok: true, value: expected }, JSON.stringify(record));
});

test('a record that places the client nowhere is no location, not an error', () => {
  const cases: [unknown, GeoSchema][] = [
    [null, 'geoip2'],
    [undefined, 'flat'],
    // The registered country is where the block's owner is, not the client (anycast ranges).
    [{ registered_country: { iso_code: 'CH' } }, 'geoip2'],
    [{ location: { time_zone: 'Europe/Zurich' } }, 'geoip2'],
    [{ country_code: '', city: '' }, 'flat'],
  ];
  for (const [record, schema] of cases) assert.deepEqual(toGeoLocation(record, schema), { ok: true, value: undefined }, JSON.stringify(record));
});

test('nonsense values are rejected with a reason naming the field', () => {
  const cases: [unknown, GeoSchema, RegExp][] = [
    [{ location: { latitude: Number.NaN, longitude: 1 } }, 'geoip2', /^location\.latitude is NaN/],
    [{ location: { latitude: 91, longitude: 1 } }, 'geoip2', /^location\.latitude is 91, not a latitude in \[-90, 90\]/],
    [{ location: { latitude: 1, longitude: -180.5 } }, 'geoip2', /^location\.longitude is -180\.5/],
    [{ location: { latitude: 1 } }, 'geoip2', /^location\.longitude is missing/],
    [{ location: { latitude: '35', longitude: 139 } }, 'geoip2', /^location\.latitude is "35"/],
    [{ location: 'Tokyo' }, 'geoip2', /^location is "Tokyo", not a map/],
    [{ location: { latitude: 1, longitude: 1, accuracy_radius: -5 } }, 'geoip2', /^location\.accuracy_radius is -5/],
    [{ country: { iso_code: 'jpn' }, location: { latitude: 1, longitude: 1 } }, 'geoip2', /^country\.iso_code is "jpn"/],
    [{ continent: { code: 'XX' }, location: { latitude: 1, longitude: 1 } }, 'geoip2', /^continent\.code is "XX"/],
    [{ latitude: Number.POSITIVE_INFINITY, longitude: 1 }, 'flat', /^latitude is Infinity/],
    [{ latitude: 1, longitude: 200 }, 'flat', /^longitude is 200/],
    [{ latitude: 1, longitude: 1, city: 7 }, 'flat', /^city is 7, not a string/],
    ['a string', 'flat', /^record is "a string", not a map/],
    [[1, 2], 'geoip2', /^record is an array, not a map/],
  ];
  for (const [record, schema, reason] of cases) {
    const result = toGeoLocation(record, schema);
    assert.equal(result.ok, false, JSON.stringify(record));
    if (!result.ok) assert.match(result.error, reason);
  }
});

test('the result is frozen: one object serves every lookup of a record', () => {
  const result = toGeoLocation(saoPauloFlat, 'flat');
  assert.ok(result.ok && result.value);
  assert.ok(Object.isFrozen(result.value));
});

test('the layout is recognised from the record', () => {
  assert.equal(detectGeoSchema(tokyoGeoip2), 'geoip2');
  assert.equal(detectGeoSchema({ registered_country: { iso_code: 'CH' } }), 'geoip2');
  assert.equal(detectGeoSchema(saoPauloFlat), 'flat');
  assert.equal(detectGeoSchema({ autonomous_system_number: 15169 }), undefined);
  assert.equal(detectGeoSchema('x'), undefined);
});

test('the country table covers ISO 3166-1 with GeoNames continents', () => {
  assert.equal(COUNTRY_CONTINENTS.size, 250);
  const expected: Record<string, string> = { JP: 'AS', GB: 'EU', US: 'NA', BR: 'SA', AU: 'OC', ZA: 'AF', AQ: 'AN', RU: 'EU', TR: 'AS', CY: 'EU', EG: 'AF', PA: 'NA', XK: 'EU' };
  for (const [country, continent] of Object.entries(expected)) assert.equal(continentOfCountry(country), continent, country);
  assert.equal(continentOfCountry('ZZ'), undefined);
});
