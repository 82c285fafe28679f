import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileStore } from '../../src/adapters/file-store/file-store.js';
import { formatProblem } from '../../src/adapters/file-store/format-problem.js';
import { ManualClock } from '../helpers/manual-clock.js';
import type { ProxyFleetStatus } from '../../src/model/fleet.js';
import type { ResourceKey } from '../../src/model/resource.js';
import { captureLog, defer, edit, nextKey, put, smallFleet, startStore, tempDirs, VALID_FLEET } from './helpers.js';

const MAIN: ResourceKey = { kind: 'ProxyFleet', namespace: 'default', name: 'main' };
const HEALTHY: ProxyFleetStatus = { observedGeneration: 1, phase: 'Healthy', proxies: 2, readyProxies: 2 };

test('a valid fleet loads with generation 1 and the identity the store assigns', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store, clock } = await startStore(t, dirs);
  const fleet = await store.get('ProxyFleet', 'default', 'main');
  assert.ok(fleet);
  assert.equal(fleet.metadata.generation, 1);
  assert.equal(fleet.metadata.namespace, 'default');
  assert.equal(fleet.metadata.creationTimestamp, new Date(clock.now()).toISOString());
  assert.match(fleet.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(typeof fleet.metadata.resourceVersion, 'string');
  assert.equal(fleet.status, undefined);
  assert.deepEqual(fleet.spec.proxies.map((p) => p.name), ['tokyo-1', 'london-1']);
  assert.deepEqual(store.problems(), []);
  assert.deepEqual((await store.list('ProxyFleet')).map((f) => f.metadata.name), ['main']);
  // Identity is on disk before anything else happens, so a restart keeps it.
  const saved = JSON.parse(await readFile(join(dirs.stateDir, 'ProxyFleet', 'default', 'main.json'), 'utf8')) as { generation: number; uid: string };
  assert.deepEqual([saved.generation, saved.uid], [1, fleet.metadata.uid]);
});

test('get and list hand out frozen objects (shared, as an informer cache does): a caller cannot change what the store holds', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await startStore(t, dirs);
  await store.updateStatus('ProxyFleet', 'default', 'main', HEALTHY);
  const fleet = await store.get('ProxyFleet', 'default', 'main');
  assert.ok(fleet);
  const proxy = fleet.spec.proxies[0];
  assert.ok(proxy);
  assert.throws(() => Object.assign(proxy, { region: 'mars' }), TypeError);
  assert.throws(() => Object.assign(fleet.metadata, { generation: 99 }), TypeError);
  const status = fleet.status;
  assert.ok(status);
  assert.throws(() => Object.assign(status, { phase: 'Degraded' }), TypeError);
  const [listed] = await store.list('ProxyFleet');
  assert.ok(Object.isFrozen(listed));
  assert.equal(listed?.spec.proxies[0]?.region, 'tokyo');
  assert.equal(listed?.metadata.generation, 1);
  assert.equal(listed?.status?.phase, 'Healthy');
});

test('a file edited into an invalid state keeps the last valid object, reports and logs the problem once; the fix clears it', async (t) => {
  const dirs = await tempDirs(t);
  const file = await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store, logged } = await startStore(t, dirs);

  await put(dirs.manifestDir, 'fleet.yaml', edit(edit(VALID_FLEET, 'region: london', 'region: mars'), 'version: 17.4.2\n    - name: london-1', 'version: 17.5.0\n    - name: london-1'));
  await store.rescan();
  await store.rescan();
  const kept = await store.get('ProxyFleet', 'default', 'main');
  assert.equal(kept?.spec.proxies[1]?.region, 'london');
  assert.equal(kept?.spec.proxies[0]?.version, '17.4.2');
  assert.equal(kept?.metadata.generation, 1);
  assert.deepEqual(store.problems().map(formatProblem), [`${file}:22:7: spec.proxies[1].region: region "mars" is not defined in spec.regions`]);
  const rejected = logged.lines.filter((l) => l['msg'] === 'Rejected manifest');
  assert.equal(rejected.length, 1, 'logged once per change, not once per scan');
  assert.deepEqual(
    [rejected[0]?.['level'], rejected[0]?.['file'], rejected[0]?.['line'], rejected[0]?.['field']],
    [40, file, 22, 'spec.proxies[1].region'],
  );

  await put(dirs.manifestDir, 'fleet.yaml', edit(VALID_FLEET, 'version: 17.4.2\n    - name: london-1', 'version: 17.5.0\n    - name: london-1'));
  await store.rescan();
  assert.deepEqual(store.problems(), []);
  const fixed = await store.get('ProxyFleet', 'default', 'main');
  assert.equal(fixed?.spec.proxies[0]?.version, '17.5.0');
  assert.equal(fixed?.metadata.generation, 2);
});

test('in a file with a valid and invalid documents, the valid one updates and the invalid ones keep their last version', async (t) => {
  const dirs = await tempDirs(t);
  const three = (a: string, b: string, c: string): string => [a, b, c].join('---\n');
  await put(dirs.manifestDir, 'fleets.yaml', three(smallFleet('alpha'), smallFleet('beta'), smallFleet('gamma')));
  const { store } = await startStore(t, dirs);

  // beta still names itself (matched by key); gamma's kind is mangled, so only its position finds it.
  const badBeta = edit(smallFleet('beta', '18.0.0'), 'latitude: 48.86', 'latitude: 148.86');
  const badGamma = edit(smallFleet('gamma', '18.0.0'), 'kind: ProxyFleet', 'kind: ProxyFleat');
  await put(dirs.manifestDir, 'fleets.yaml', three(smallFleet('alpha', '18.0.0'), badBeta, badGamma));
  await store.rescan();

  const versions = (await store.list('ProxyFleet')).map((f) => [f.metadata.name, f.spec.proxies[0]?.version, f.metadata.generation]);
  assert.deepEqual(versions, [
    ['alpha', '18.0.0', 2],
    ['beta', '17.4.2', 1],
    ['gamma', '17.4.2', 1],
  ]);
  assert.deepEqual(store.problems().map((p) => [p.line, p.error.path.join('.')]), [
    [25, 'spec.regions.0.latitude'],
    [36, 'kind'],
  ]);
});

test('deleting a file deletes its objects; their status stays on disk and comes back with the file', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await startStore(t, dirs);
  await store.updateStatus('ProxyFleet', 'default', 'main', HEALTHY);

  const gone = nextKey(store, (k) => k.name === 'main');
  await rm(join(dirs.manifestDir, 'fleet.yaml'));
  await store.rescan();
  assert.deepEqual(await gone, MAIN);
  assert.equal(await store.get('ProxyFleet', 'default', 'main'), undefined);
  assert.deepEqual(await store.list('ProxyFleet'), []);
  await assert.rejects(store.updateStatus('ProxyFleet', 'default', 'main', HEALTHY), /ProxyFleet\/default\/main not found/);
  await readFile(join(dirs.stateDir, 'ProxyFleet', 'default', 'main.json'), 'utf8');

  await put(dirs.manifestDir, 'renamed-back.yaml', VALID_FLEET);
  await store.rescan();
  const back = await store.get('ProxyFleet', 'default', 'main');
  assert.equal(back?.status?.phase, 'Healthy');
  assert.equal(back?.metadata.generation, 1);
});

test('a spec change bumps the generation; status and label changes do not', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await startStore(t, dirs);
  const v1 = await store.get('ProxyFleet', 'default', 'main');

  await store.updateStatus('ProxyFleet', 'default', 'main', HEALTHY);
  const v2 = await store.get('ProxyFleet', 'default', 'main');
  assert.equal(v2?.metadata.generation, 1);
  assert.notEqual(v2?.metadata.resourceVersion, v1?.metadata.resourceVersion);

  await put(dirs.manifestDir, 'fleet.yaml', edit(VALID_FLEET, '  name: main\n', '  name: main\n  labels: { team: edge }\n'));
  await store.rescan();
  const v3 = await store.get('ProxyFleet', 'default', 'main');
  assert.equal(v3?.metadata.generation, 1);
  assert.deepEqual(v3?.metadata.labels, { team: 'edge' });
  assert.notEqual(v3?.metadata.resourceVersion, v2?.metadata.resourceVersion);

  await put(dirs.manifestDir, 'fleet.yaml', edit(VALID_FLEET, 'latitude: 35.68', 'latitude: 35.7'));
  await store.rescan();
  const v4 = await store.get('ProxyFleet', 'default', 'main');
  assert.equal(v4?.metadata.generation, 2);
  assert.equal(v4?.metadata.uid, v1?.metadata.uid);
  assert.equal(v4?.status?.phase, 'Healthy');
});

test('generation, uid and status survive a restart; an unchanged spec keeps its generation', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const first = await startStore(t, dirs);
  await put(dirs.manifestDir, 'fleet.yaml', edit(VALID_FLEET, 'latitude: 35.68', 'latitude: 35.7'));
  await first.store.rescan();
  await first.store.updateStatus('ProxyFleet', 'default', 'main', { ...HEALTHY, observedGeneration: 2 });
  const before = await first.store.get('ProxyFleet', 'default', 'main');
  await first.store.close();

  const second = await startStore(t, dirs);
  const after = await second.store.get('ProxyFleet', 'default', 'main');
  assert.equal(after?.metadata.generation, 2);
  assert.equal(after?.metadata.uid, before?.metadata.uid);
  assert.equal(after?.metadata.creationTimestamp, before?.metadata.creationTimestamp);
  assert.deepEqual(after?.status, { ...HEALTHY, observedGeneration: 2 });
  await second.store.close();

  // Changed while the controller was down: one more.
  await put(dirs.manifestDir, 'fleet.yaml', edit(VALID_FLEET, 'latitude: 35.68', 'latitude: 35.8'));
  const third = await startStore(t, dirs);
  assert.equal((await third.store.get('ProxyFleet', 'default', 'main'))?.metadata.generation, 3);
});

test('the last valid version stays in force across a restart while the file is invalid', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const first = await startStore(t, dirs);
  await first.store.close();

  await put(dirs.manifestDir, 'fleet.yaml', edit(VALID_FLEET, 'Asia/Tokyo', 'Asia/Tokio'));
  const second = await startStore(t, dirs);
  const fleet = await second.store.get('ProxyFleet', 'default', 'main');
  assert.equal(fleet?.spec.regions[0]?.timeZone, 'Asia/Tokyo');
  assert.deepEqual(second.store.problems().map((p) => [p.line, p.error.message]), [[10, 'unknown IANA time zone "Asia/Tokio"']]);
});

test('watchers get the key of an object whose file was edited (fs.watch)', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  await put(dirs.manifestDir, 'other.yaml', smallFleet('other'));
  const { store } = await startStore(t, dirs, { watchFiles: true });
  const seen: string[] = [];
  store.watch((k) => seen.push(k.name));
  const changed = nextKey(store, (k) => k.name === 'main');
  await put(dirs.manifestDir, 'fleet.yaml', edit(VALID_FLEET, 'version: 17.4.2\n    - name: london-1', 'version: 17.5.0\n    - name: london-1'));
  assert.deepEqual(await changed, MAIN);
  assert.equal((await store.get('ProxyFleet', 'default', 'main'))?.metadata.generation, 2);
  assert.deepEqual(seen, ['main'], 'the untouched object is not announced');
});

test('the periodic rescan finds an edit when no file watch is running', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await startStore(t, dirs, { watchFiles: false, rescanIntervalMs: 25 });
  const added = nextKey(store, (k) => k.name === 'late');
  await put(dirs.manifestDir, 'sub/late.yaml', smallFleet('late'));
  assert.deepEqual(await added, { kind: 'ProxyFleet', namespace: 'default', name: 'late' });
  assert.ok(await store.get('ProxyFleet', 'default', 'late'));
});

test('watchers hear of every object on the first load, and of status changes, but not of no-op writes', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const store = new FileStore({ ...dirs, log: captureLog().log, clock: new ManualClock(), watchFiles: false, rescanIntervalMs: 3_600_000 });
  defer(t, () => store.close());
  const seen: ResourceKey[] = [];
  store.watch((k) => seen.push(k));
  await store.start();
  assert.deepEqual(seen, [MAIN]);

  await store.updateStatus('ProxyFleet', 'default', 'main', HEALTHY);
  await store.updateStatus('ProxyFleet', 'default', 'main', { ...HEALTHY });
  await store.rescan();
  assert.deepEqual(seen, [MAIN, MAIN]);
});

test('updateStatus persists across a new store instance; the caller keeps its own object', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const first = await startStore(t, dirs);
  const status = { ...HEALTHY, regions: [{ name: 'tokyo', proxies: 1, ready: 1, sessions: 12 }] };
  await first.store.updateStatus('ProxyFleet', 'default', 'main', status);
  status.regions.push({ name: 'london', proxies: 1, ready: 0, sessions: 0 });
  assert.equal((await first.store.get('ProxyFleet', 'default', 'main'))?.status?.regions?.length, 1);
  await first.store.close();

  const second = await startStore(t, dirs);
  const fleet = await second.store.get('ProxyFleet', 'default', 'main');
  assert.deepEqual(fleet?.status, { ...HEALTHY, regions: [{ name: 'tokyo', proxies: 1, ready: 1, sessions: 12 }] });
  await assert.rejects(second.store.updateStatus('ProxyFleet', 'default', 'absent', HEALTHY), /ProxyFleet\/default\/absent not found/);
});
