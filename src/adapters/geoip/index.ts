export { COUNTRY_CONTINENTS, continentOfCountry } from './country-continents.js';
export { nonPublicKind } from './address-ranges.js';
export { BUNDLED_GEOIP_PACKAGE, defaultGeoIpPaths } from './default-paths.js';
export {
  loadGeoDatabase,
  openGeoDatabase,
  type GeoDatabase,
  type GeoDatabaseInfo,
  type GeoLookup,
  type OpenGeoDatabaseOptions,
} from './geo-database.js';
export { detectGeoSchema, toGeoLocation, type GeoLocation, type GeoSchema } from './geo-location.js';
export { createGeoIpService, type GeoIpCheckOutcome, type GeoIpService, type GeoIpServiceOptions } from './geoip-service.js';
export type { GeoDatabaseProblem } from './mmdb-file.js';
