/** Great-circle distance on a spherical Earth (haversine); plenty for choosing between regions. */

export interface GeoPoint {
  readonly latitude: number;
  readonly longitude: number;
}

/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;

const RAD = Math.PI / 180;

export function degreesToRadians(deg: number): number {
  return deg * RAD;
}

/** A coordinate pair is usable when both are finite and within the globe. */
export function isUsablePoint(latitude: number | undefined, longitude: number | undefined): boolean {
  return (
    typeof latitude === 'number' &&
    typeof longitude === 'number' &&
    Number.isFinite(latitude) &&
    Number.isFinite(longitude) &&
    latitude >= -90 &&
    latitude <= 90 &&
    longitude >= -180 &&
    longitude <= 180
  );
}

/**
 * The haversine of the central angle between two points already in radians, with
 * cos(latitude) precomputed (the chooser converts each region once per routing table and the
 * client once per request). It grows with the distance: the nearest of several points has the
 * least, so a search compares these and takes arcKm of the winner only.
 */
export function haversineTerm(lat1: number, lon1: number, cosLat1: number, lat2: number, lon2: number, cosLat2: number): number {
  const sinDLat = Math.sin((lat2 - lat1) / 2);
  const sinDLon = Math.sin((lon2 - lon1) / 2);
  return sinDLat * sinDLat + cosLat1 * cosLat2 * sinDLon * sinDLon;
}

/** The great-circle distance of a haversineTerm. */
export function arcKm(h: number): number {
  // Rounding can push h a hair above 1 for antipodal points; asin would return NaN.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(h < 1 ? h : 1));
}

/** Haversine over points already in radians, with cos(latitude) precomputed. */
export function haversineKm(lat1: number, lon1: number, cosLat1: number, lat2: number, lon2: number, cosLat2: number): number {
  return arcKm(haversineTerm(lat1, lon1, cosLat1, lat2, lon2, cosLat2));
}

export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const lat1 = a.latitude * RAD;
  const lat2 = b.latitude * RAD;
  return haversineKm(lat1, a.longitude * RAD, Math.cos(lat1), lat2, b.longitude * RAD, Math.cos(lat2));
}
