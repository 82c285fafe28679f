import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGeoIpService, type GeoIpService, type GeoIpServiceOptions } from '../../src/adapters/geoip/geoip-service.js';
import { waitFor } from '../helpers/wait.js';
import {
  CORRUPT_GARBLED_DB,
  CORRUPT_TRUNCATED_DB,
  EPOCH_MAIN,
  EPOCH_MOVED,
  GEOIP2_DB,
  GEOIP2_MOVED_DB,
  captureLog,
  fixture,
  replaceFile,
  tempDir,
} from './helpers.js';

// 133.11.0.0/24 is Tokyo in the main fixture and Osaka in the "moved" one.
const PROBE_IP = '133.11.0.9';

function cityOf(service: GeoIpService): string | undefined {
  const answer = service.current().lookup(PROBE_IP);
  return answer.result === 'found' ? answer.location.city : `(${answer.result})`;
}

async function startedService(t: TestContext, options: Partial<GeoIpServiceOptions> = {}) {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  await copyFile(GEOIP2_DB, path);
  const { log, lines } = captureLog();
  const service = createGeoIpService({ paths: [path], log, watch: false, ...options });
  t.after(() => service.close());
  const started = await service.start();
  if (!started.ok) assert.fail(started.error);
  assert.equal(cityOf(service), 'Tokyo');
  return { dir, path, service, lines };
}

test('a replaced file is swapped in while lookups keep running, none failing', async (t) => {
  const { path, service, lines } = await startedService(t);
  assert.equal(service.buildTimestampSeconds(), EPOCH_MAIN);

  const seen: string[] = [];
  let stop = false;
  let lookupsDuringCheck = 0;
  let checking = false;
  // Lookups in batches, yielding between them so the reload's file reads interleave.
  const loop = (async () => {
    while (!stop) {
      for (let i = 0; i < 50; i++) {
        seen.push(cityOf(service) ?? '(no city)');
        if (checking) lookupsDuringCheck++;
      }
      await nextTurn();
    }
  })();
  await nextTurn();

  await replaceFile(GEOIP2_MOVED_DB, path);
  checking = true;
  const outcome = await service.checkForUpdate();
  checking = false;
  for (let i = 0; i < 5; i++) await nextTurn();
  stop = true;
  await loop;

  assert.equal(outcome, 'swapped');
  assert.ok(lookupsDuringCheck > 0, 'lookups ran while the new file was read');
  const bad = seen.filter((c) => c !== 'Tokyo' && c !== 'Osaka');
  assert.deepEqual(bad, [], 'every lookup answered with the old or the new city');
  const firstOsaka = seen.indexOf('Osaka');
  assert.ok(firstOsaka > 0, 'answers changed to the new file');
  assert.ok(!seen.slice(firstOsaka).includes('Tokyo'), 'never back to the old answer after the swap');
  assert.equal(cityOf(service), 'Osaka');
  assert.equal(service.buildTimestampSeconds(), EPOCH_MOVED);
  assert.equal(service.current().info.buildEpochSeconds, EPOCH_MOVED);
  const replaced = lines.find((l) => l.msg === 'Replaced GeoIP database');
  assert.ok(replaced, 'logged the swap');
  assert.equal(replaced['buildEpochSeconds'], EPOCH_MOVED);
  assert.equal(replaced['previousBuildEpochSeconds'], EPOCH_MAIN);
  assert.equal(await service.checkForUpdate(), 'unchanged');
});

test('a corrupt replacement is rejected with a clear log line and the old database keeps answering', async (t) => {
  const { path, service, lines } = await startedService(t);
  for (const [corrupt, reason] of [
    [CORRUPT_GARBLED_DB, /^corrupt: reading the record for /],
    [CORRUPT_TRUNCATED_DB, /^not a MaxMind DB file/],
    [fixture('README.md'), /^not a MaxMind DB file/],
  ] as const) {
    await replaceFile(corrupt, path);
    assert.equal(await service.checkForUpdate(), 'rejected', corrupt);
    assert.equal(cityOf(service), 'Tokyo');
    assert.equal(service.buildTimestampSeconds(), EPOCH_MAIN);
    const rejected = lines.filter((l) => l.msg === 'Rejected GeoIP database');
    const last = rejected.at(-1);
    assert.ok(last, 'logged the rejection');
    assert.equal(last.level, 50, 'at error level');
    assert.equal(last['file'], path);
    assert.match(String(last['reason']), reason);
    // The same bad file is not read, nor logged, again on the next check.
    assert.equal(await service.checkForUpdate(), 'unchanged');
    assert.equal(lines.filter((l) => l.msg === 'Rejected GeoIP database').length, rejected.length);
  }
  // A good file after the bad ones is taken.
  await replaceFile(GEOIP2_MOVED_DB, path);
  assert.equal(await service.checkForUpdate(), 'swapped');
  assert.equal(cityOf(service), 'Osaka');
});

test('a deleted file is reported once and the loaded database keeps answering', async (t) => {
  const { path, service, lines } = await startedService(t);
  await rm(path);
  assert.equal(await service.checkForUpdate(), 'rejected');
  assert.equal(await service.checkForUpdate(), 'rejected');
  const rejected = lines.filter((l) => l.msg === 'Rejected GeoIP database');
  assert.equal(rejected.length, 1);
  assert.match(String(rejected[0]?.['reason']), /cannot read: ENOENT/);
  assert.equal(cityOf(service), 'Tokyo');
  await copyFile(GEOIP2_MOVED_DB, path);
  assert.equal(await service.checkForUpdate(), 'swapped');
});

test('checks asked for while one runs are folded into one more check', async (t) => {
  const { path, service } = await startedService(t);
  await replaceFile(GEOIP2_MOVED_DB, path);
  const outcomes = await Promise.all([service.checkForUpdate(), service.checkForUpdate(), service.checkForUpdate()]);
  assert.deepEqual(outcomes, ['swapped', 'unchanged', 'unchanged']);
  assert.equal(cityOf(service), 'Osaka');
});

test('with watching on, a renamed-in file is picked up through fs.watch', async (t) => {
  // A poll period far longer than the test: only the directory watch can see the change.
  const { path, service, lines } = await startedService(t, { watch: true, settleMs: 20, pollIntervalMs: 3_600_000 });
  await replaceFile(GEOIP2_MOVED_DB, path);
  await waitFor('the new database', async () => (cityOf(service) === 'Osaka' ? true : undefined), 5_000);
  await replaceFile(CORRUPT_GARBLED_DB, path);
  await waitFor('the rejection', async () => lines.find((l) => l.msg === 'Rejected GeoIP database'), 5_000);
  assert.equal(cityOf(service), 'Osaka');
});

test('with watching on, the periodic stat sees a change that no directory event reports', async (t) => {
  // The configured path is a symlink into another directory, as on a Kubernetes volume;
  // replacing the target there makes no event in the watched directory.
  const dir = await tempDir(t);
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'config'));
  const target = join(dir, 'data', 'city.mmdb');
  const path = join(dir, 'config', 'city.mmdb');
  await copyFile(GEOIP2_DB, target);
  await symlink(target, path);
  const { log } = captureLog();
  const service = createGeoIpService({ paths: [path], log, pollIntervalMs: 50, settleMs: 10 });
  t.after(() => service.close());
  const started = await service.start();
  assert.ok(started.ok);
  assert.equal(cityOf(service), 'Tokyo');
  await replaceFile(GEOIP2_MOVED_DB, target);
  await waitFor('the new database', async () => (cityOf(service) === 'Osaka' ? true : undefined), 5_000);
});

test('start fails with an error naming the file; current() before start is a bug', async (t) => {
  const dir = await tempDir(t);
  const { log, lines } = captureLog();
  const script = fixture('generate.pl');
  const service = createGeoIpService({ paths: [GEOIP2_DB, script], log });
  t.after(() => service.close());
  assert.throws(() => service.current(), /start\(\) it first/);
  assert.equal(service.buildTimestampSeconds(), undefined);
  const started = await service.start();
  assert.ok(!started.ok);
  assert.match(started.error, new RegExp(`^${script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a MaxMind DB file`));
  assert.equal(lines.filter((l) => l.msg === 'Rejected GeoIP database').length, 1);

  const missing = createGeoIpService({ paths: [join(dir, 'nope.mmdb')], log });
  const none = await missing.start();
  assert.ok(!none.ok && none.error.includes('nope.mmdb: cannot read: ENOENT'));
  assert.throws(() => createGeoIpService({ paths: [], log }), /at least one/);
});
