import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { landRings, makeWorldModule, WORLD_MODULE, type LandTopology } from '../../src/dashboard/tools/make-world-path.js';

test('the committed world outline is what the tool makes of Natural Earth 110m, with its licence, in the map\'s frame', async () => {
  const committed = await readFile(WORLD_MODULE, 'utf8');
  assert.equal(committed, await makeWorldModule(), 'regenerate: node --import tsx src/dashboard/tools/make-world-path.ts');
  assert.match(committed, /Natural Earth 1:110m \(public domain/);
  assert.match(committed, /ISC licence/);
  const path = /WORLD_PATH = '([^']*)'/.exec(committed)?.[1] ?? '';
  // Every ring starts inside the frame (0..360, 0..180) and is closed.
  const starts = [...path.matchAll(/M([\d.]+) ([\d.]+)l/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(starts.length > 100, `${starts.length} rings`);
  for (const [x = -1, y = -1] of starts) assert.ok(x >= 0 && x <= 360 && y >= 0 && y <= 180, `${x} ${y}`);
  assert.equal(path.split('M').length - 1, path.split('z').length - 1);
  assert.ok(committed.length < 40_000, `${committed.length} bytes`);
});

test('the tool\'s own TopoJSON decoding gives the rings topojson-client\'s feature() gives', async () => {
  const require = createRequire(import.meta.url);
  const topology = JSON.parse(await readFile(require.resolve('world-atlas/land-110m.json'), 'utf8')) as LandTopology & Topology<{ land: GeometryCollection }>;
  const land = feature(topology, topology.objects.land);
  const expected = land.features.flatMap((f) => (f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates.flat() : []));
  assert.deepEqual(landRings(topology), expected);
});
