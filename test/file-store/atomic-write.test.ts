import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isTempFileName, removeStaleTempFiles, writeFileAtomic } from '../../src/adapters/file-store/atomic-write.js';
import { put, startStore, tempDir, tempDirs, VALID_FLEET } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');

test('writeFileAtomic creates and replaces a file, leaving no temp file', async (t) => {
  const dir = await tempDir(t);
  const target = join(dir, 'a', 'b', 'status.json');
  await writeFileAtomic(target, 'one');
  await writeFileAtomic(target, 'two');
  assert.equal(await readFile(target, 'utf8'), 'two');
  assert.deepEqual(await readdir(dirname(target)), ['status.json']);
});

test('until the rename, the target holds the old content and the temp file the whole new one', async (t) => {
  const dir = await tempDir(t);
  const target = join(dir, 'status.json');
  await writeFile(target, 'old');
  const during: string[] = [];
  await writeFileAtomic(target, 'new', {
    afterTempSynced: async (temp) => {
      assert.equal(dirname(temp), dir, 'same directory, so the rename stays on one file system');
      during.push(await readFile(target, 'utf8'), await readFile(temp, 'utf8'));
    },
  });
  assert.deepEqual(during, ['old', 'new']);
  assert.equal(await readFile(target, 'utf8'), 'new');
});

test('a write that fails before the rename leaves the target and removes its temp file', async (t) => {
  const dir = await tempDir(t);
  const target = join(dir, 'status.json');
  await writeFile(target, 'old');
  await assert.rejects(
    writeFileAtomic(target, 'new', {
      afterTempSynced: () => {
        throw new Error('disk on fire');
      },
    }),
    /disk on fire/,
  );
  assert.equal(await readFile(target, 'utf8'), 'old');
  assert.deepEqual(await readdir(dir), ['status.json']);
});

test('removeStaleTempFiles removes only temp files, at any depth', async (t) => {
  const dir = await tempDir(t);
  const stale = '.main.json.0b7e4a1c-58c4-4f0e-9a51-2d7c1f0e6b3a.tmp';
  assert.ok(isTempFileName(stale));
  await put(dir, join('ProxyFleet', 'default', stale), '{');
  await put(dir, join('ProxyFleet', 'default', 'main.json'), '{}');
  await put(dir, join('ProxyFleet', 'default', '.notes.tmp'), 'mine');
  const removed = await removeStaleTempFiles(dir);
  assert.deepEqual(removed, [join(dir, 'ProxyFleet', 'default', stale)]);
  assert.deepEqual((await readdir(join(dir, 'ProxyFleet', 'default'))).sort(), ['.notes.tmp', 'main.json']);
});

function runChild(args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'crash-during-status-write.ts'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

test('crash between temp write and rename: the old status survives and the next start cleans up', async (t) => {
  const dirs = await tempDirs(t);
  await put(dirs.manifestDir, 'fleet.yaml', VALID_FLEET);
  const before = await startStore(t, dirs);
  const healthy = { observedGeneration: 1, phase: 'Healthy', proxies: 2, readyProxies: 2 } as const;
  await before.store.updateStatus('ProxyFleet', 'default', 'main', healthy);
  await before.store.close();

  const child = await runChild([dirs.manifestDir, dirs.stateDir]);
  assert.equal(child.signal, 'SIGKILL', `child should die in the hook (exit ${child.code}): ${child.stderr}`);

  const recordDir = join(dirs.stateDir, 'ProxyFleet', 'default');
  const left = await readdir(recordDir);
  const temps = left.filter(isTempFileName);
  assert.equal(temps.length, 1, `one temp file left by the crash: ${left.join(', ')}`);
  const temp = JSON.parse(await readFile(join(recordDir, temps[0] ?? ''), 'utf8')) as { status: { phase: string } };
  assert.equal(temp.status.phase, 'Degraded', 'the temp file was complete when the process died');
  const record = JSON.parse(await readFile(join(recordDir, 'main.json'), 'utf8')) as { status: unknown };
  assert.deepEqual(record.status, healthy);

  const after = await startStore(t, dirs);
  assert.deepEqual(await readdir(recordDir), ['main.json']);
  assert.deepEqual((await after.store.get('ProxyFleet', 'default', 'main'))?.status, healthy);
  assert.deepEqual(after.store.problems(), []);
  const removedLog = after.logged.lines.find((l) => l['msg'] === 'Removed temp file left by an interrupted write');
  assert.equal(removedLog?.['file'], join(recordDir, temps[0] ?? ''));
});
