import type { Result } from '../../model/result.js';
import { err, ok } from '../../model/result.js';
import type { ContinentCode } from '../../model/fleet.js';
import { continentOfCountry, isContinentCode } from './country-continents.js';

/**
 * Where a client is, as far as the GeoIP database knows. Some records place an address only
 * in a country or continent (mobile carriers, small allocations): no coordinates then, but
 * country and continent pins still apply to it. Either both coordinates are present or neither.
 */
export interface GeoLocation {
  readonly countryCode?: string;
  readonly continentCode?: ContinentCode;
  readonly latitude?: number;
  readonly longitude?: number;
  readonly accuracyRadiusKm?: number;
  readonly city?: string;
}

/**
 * Record layouts understood:
 * - `geoip2`: MaxMind GeoIP2/GeoLite2 City (`country.iso_code`, `continent.code`,
 *   `location.latitude|longitude|accuracy_radius`, `city.names.en`).
 * - `flat`: the @ip-location-db/*-mmdb packages (`country_code`, `latitude`,
 *   `longitude`, `city`, `state1`, `state2`, `postcode`, `timezone`; no continent).
 */
export type GeoSchema = 'geoip2' | 'flat';

type Fields = Readonly<Record<string, unknown>>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which layout a record has, from its keys; undefined when neither fits. */
export function detectGeoSchema(record: unknown): GeoSchema | undefined {
  if (!isFields(record)) return undefined;
  if ('country_code' in record || typeof record['latitude'] === 'number') return 'flat';
  for (const key of ['location', 'country', 'continent', 'registered_country', 'city', 'represented_country']) {
    if (isFields(record[key])) return 'geoip2';
  }
  return undefined;
}

/**
 * Maps one database record to a GeoLocation. `ok(undefined)`: the record places the address
 * nowhere: no coordinates, country or continent (e.g. an anycast range known only by its
 * registered country, which says where the block's owner is, not the client).
 * An error names the field that is wrong.
 */
export function toGeoLocation(record: unknown, schema: GeoSchema): Result<GeoLocation | undefined, string> {
  if (record === null || record === undefined) return ok(undefined);
  if (!isFields(record)) return err(`record is ${describe(record)}, not a map`);
  return schema === 'geoip2' ? fromGeoip2(record) : fromFlat(record);
}

function fromGeoip2(record: Fields): Result<GeoLocation | undefined, string> {
  const location = optionalMap(record, 'location');
  if (!location.ok) return location;
  const coordinates = location.value === undefined ? ok(undefined) : readOptionalCoordinates(location.value, 'location.');
  if (!coordinates.ok) return coordinates;

  const country = optionalMap(record, 'country');
  if (!country.ok) return country;
  const countryCode = country.value ? readCountryCode(country.value['iso_code'], 'country.iso_code') : ok(undefined);
  if (!countryCode.ok) return countryCode;

  const continent = optionalMap(record, 'continent');
  if (!continent.ok) return continent;
  const continentCode = readContinentCode(continent.value?.['code']);
  if (!continentCode.ok) return continentCode;

  const radius = readRadius(location.value?.['accuracy_radius']);
  if (!radius.ok) return radius;

  const city = optionalMap(record, 'city');
  if (!city.ok) return city;
  const names = city.value ? optionalMap(city.value, 'names') : ok(undefined);
  if (!names.ok) return err(`city.${names.error}`);
  const cityName = names.value?.['en'];

  return ok(
    build({
      countryCode: countryCode.value,
      continentCode: continentCode.value ?? (countryCode.value === undefined ? undefined : continentOfCountry(countryCode.value)),
      coordinates: coordinates.value,
      accuracyRadiusKm: radius.value,
      city: typeof cityName === 'string' && cityName !== '' ? cityName : undefined,
    }),
  );
}

function fromFlat(record: Fields): Result<GeoLocation | undefined, string> {
  const coordinates = readOptionalCoordinates(record, '');
  if (!coordinates.ok) return coordinates;
  const countryCode = readCountryCode(record['country_code'], 'country_code');
  if (!countryCode.ok) return countryCode;
  const city = record['city'];
  if (city !== undefined && typeof city !== 'string') return err(`city is ${describe(city)}, not a string`);
  return ok(
    build({
      countryCode: countryCode.value,
      continentCode: countryCode.value === undefined ? undefined : continentOfCountry(countryCode.value),
      coordinates: coordinates.value,
      // The flat files store an unknown city as "".
      city: city === '' ? undefined : city,
    }),
  );
}

interface Coordinates {
  readonly latitude: number;
  readonly longitude: number;
}

/** Both coordinates, or neither (undefined); one without the other is an error. */
function readOptionalCoordinates(fields: Fields, prefix: string): Result<Coordinates | undefined, string> {
  return fields['latitude'] === undefined && fields['longitude'] === undefined ? ok(undefined) : readCoordinates(fields, prefix);
}

function readCoordinates(fields: Fields, prefix: string): Result<Coordinates, string> {
  const latitude = fields['latitude'];
  const longitude = fields['longitude'];
  const latName = `${prefix}latitude`;
  const lonName = `${prefix}longitude`;
  if (typeof latitude !== 'number' || !Number.isFinite(latitude) || Math.abs(latitude) > 90) {
    return err(`${latName} is ${describe(latitude)}, not a latitude in [-90, 90]`);
  }
  if (typeof longitude !== 'number' || !Number.isFinite(longitude) || Math.abs(longitude) > 180) {
    return err(`${lonName} is ${describe(longitude)}, not a longitude in [-180, 180]`);
  }
  return ok({ latitude, longitude });
}

function readCountryCode(value: unknown, name: string): Result<string | undefined, string> {
  if (value === undefined || value === '') return ok(undefined);
  if (typeof value !== 'string' || !/^[A-Z]{2}$/.test(value)) return err(`${name} is ${describe(value)}, not an ISO 3166-1 alpha-2 code`);
  return ok(value);
}

function readContinentCode(value: unknown): Result<ContinentCode | undefined, string> {
  if (value === undefined) return ok(undefined);
  return isContinentCode(value) ? ok(value) : err(`continent.code is ${describe(value)}, not one of AF AN AS EU NA OC SA`);
}

function readRadius(value: unknown): Result<number | undefined, string> {
  if (value === undefined) return ok(undefined);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    return err(`location.accuracy_radius is ${describe(value)}, not a distance in km`);
  }
  return ok(value);
}

function optionalMap(fields: Fields, name: string): Result<Fields | undefined, string> {
  const value = fields[name];
  if (value === undefined) return ok(undefined);
  return isFields(value) ? ok(value) : err(`${name} is ${describe(value)}, not a map`);
}

interface Parts {
  readonly countryCode: string | undefined;
  readonly continentCode: ContinentCode | undefined;
  readonly coordinates: Coordinates | undefined;
  readonly accuracyRadiusKm?: number | undefined;
  readonly city: string | undefined;
}

/** A GeoLocation being built: only the fields present are set. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Undefined when the record places the address nowhere. Leaves absent fields out (so records
// compare and print cleanly) and freezes: one object is shared by every lookup of the record.
// An accuracy radius means nothing without coordinates. Fields are set one by one rather than
// spread: with a new client on every request, records are built at that rate.
function build(p: Parts): GeoLocation | undefined {
  if (p.coordinates === undefined && p.countryCode === undefined && p.continentCode === undefined) return undefined;
  const out: Mutable<GeoLocation> = {};
  if (p.countryCode !== undefined) out.countryCode = p.countryCode;
  if (p.continentCode !== undefined) out.continentCode = p.continentCode;
  if (p.coordinates !== undefined) {
    out.latitude = p.coordinates.latitude;
    out.longitude = p.coordinates.longitude;
    if (p.accuracyRadiusKm !== undefined) out.accuracyRadiusKm = p.accuracyRadiusKm;
  }
  if (p.city !== undefined) out.city = p.city;
  return Object.freeze(out);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
