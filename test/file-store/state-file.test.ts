import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeObjectRecord } from '../../src/adapters/file-store/object-record.js';
import { put, startStore, tempDirs, VALID_FLEET } from './helpers.js';

const KEY = { kind: 'ProxyFleet', namespace: 'default', name: 'main' };

test('a corrupt status file is reported naming the file, set aside, and treated as no status', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const first = await startStore(t, dirs);
  await first.store.updateStatus('ProxyFleet', 'default', 'main', { phase: 'Healthy' });
  await first.store.close();

  const recordDir = join(dirs.stateDir, 'ProxyFleet', 'default');
  const path = join(recordDir, 'main.json');
  const handEdited = (await readFile(path, 'utf8')).replace('"phase": "Healthy"', '"phase": Healthy');
  await writeFile(path, handEdited);

  const second = await startStore(t, dirs);
  const fleet = await second.store.get('ProxyFleet', 'default', 'main');
  assert.ok(fleet, 'the object is still served from its manifest');
  assert.equal(fleet.status, undefined);
  assert.equal(fleet.metadata.generation, 1);
  const problems = second.store.problems();
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.source, path);
  assert.match(problems[0]?.error.message ?? '', /^corrupt state file: not valid JSON .*moved to .*main\.json\.corrupt-\d+, status starts empty$/);
  // The hand-edited bytes are kept for a human; a fresh record took the file's place.
  const names = (await readdir(recordDir)).sort();
  assert.equal(names.length, 2);
  assert.match(names[1] ?? '', /^main\.json\.corrupt-\d+$/);
  assert.equal(await readFile(join(recordDir, names[1] ?? ''), 'utf8'), handEdited);
  const fresh = JSON.parse(await readFile(path, 'utf8')) as { generation: number };
  assert.equal(fresh.generation, 1);

  await second.store.updateStatus('ProxyFleet', 'default', 'main', { phase: 'Degraded' });
  assert.equal((await second.store.get('ProxyFleet', 'default', 'main'))?.status?.phase, 'Degraded');
});

test('state files are checked field by field', () => {
  const bad = decodeObjectRecord(JSON.stringify({ uid: '', creationTimestamp: 'yesterday', generation: 0, resourceVersion: 1, specHash: 'x', inForce: 'yes', file: 'a.yaml', document: 0, status: [] }), KEY);
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.ok ? [] : bad.error.map((e) => e.path.join('.')), ['uid', 'creationTimestamp', 'generation', 'inForce', 'status']);
  assert.equal(decodeObjectRecord('[]', KEY).ok, false);
});

test('a stored manifest that no longer validates keeps identity and status, but is not put in force', () => {
  const text = JSON.stringify({
    uid: 'u-1',
    creationTimestamp: '2026-01-01T00:00:00.000Z',
    generation: 4,
    resourceVersion: 9,
    specHash: 'sha256:x',
    inForce: true,
    file: 'fleet.yaml',
    document: 0,
    manifest: { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyFleet', metadata: { name: 'main' }, spec: { regions: [], proxies: [] } },
    status: { phase: 'Healthy' },
  });
  const decoded = decodeObjectRecord(text, KEY);
  assert.ok(decoded.ok);
  assert.equal(decoded.value.record.generation, 4);
  assert.deepEqual(decoded.value.record.status, { phase: 'Healthy' });
  assert.equal(decoded.value.record.inForce, false);
  assert.equal(decoded.value.record.manifest, undefined);
  assert.deepEqual(decoded.value.manifestErrors.map((e) => e.path.join('.')), ['manifest.spec.regions']);
});
