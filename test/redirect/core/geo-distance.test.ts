import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distanceKm, EARTH_RADIUS_KM, isUsablePoint } from '../../../src/redirect/core/geo-distance.js';

const p = (latitude: number, longitude: number) => ({ latitude, longitude });

describe('distanceKm', () => {
  const cases = [
    { name: 'London–Paris', a: p(51.51, -0.13), b: p(48.86, 2.35), km: 343, tol: 3 },
    { name: 'Tokyo–Sydney', a: p(35.68, 139.69), b: p(-33.87, 151.21), km: 7823, tol: 20 },
    { name: 'New York–London', a: p(40.71, -74.01), b: p(51.51, -0.13), km: 5570, tol: 15 },
    { name: 'across the antimeridian (Auckland–Honolulu)', a: p(-36.85, 174.76), b: p(21.31, -157.86), km: 7080, tol: 30 },
    { name: 'same point', a: p(35.68, 139.69), b: p(35.68, 139.69), km: 0, tol: 0 },
    { name: 'pole to pole', a: p(90, 0), b: p(-90, 0), km: Math.PI * EARTH_RADIUS_KM, tol: 0.001 },
    { name: 'antipodes (rounding must not give NaN)', a: p(0, 0), b: p(0, 180), km: Math.PI * EARTH_RADIUS_KM, tol: 0.001 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = distanceKm(c.a, c.b);
      assert.ok(Math.abs(d - c.km) <= c.tol, `${d} km, expected ${c.km} ± ${c.tol}`);
      assert.equal(distanceKm(c.b, c.a), d, 'symmetric');
    });
  }
});

describe('isUsablePoint', () => {
  const cases: { lat: number | undefined; lon: number | undefined; ok: boolean }[] = [
    { lat: 35.68, lon: 139.69, ok: true },
    { lat: -90, lon: 180, ok: true },
    { lat: 0, lon: 0, ok: true },
    { lat: undefined, lon: 10, ok: false },
    { lat: 10, lon: undefined, ok: false },
    { lat: NaN, lon: 10, ok: false },
    { lat: 10, lon: Infinity, ok: false },
    { lat: 91, lon: 0, ok: false },
    { lat: 0, lon: -180.5, ok: false },
  ];
  for (const c of cases) it(`${c.lat},${c.lon} → ${c.ok}`, () => assert.equal(isUsablePoint(c.lat, c.lon), c.ok));
});
