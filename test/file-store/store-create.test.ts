import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileStore } from '../../src/adapters/file-store/index.js';
import { API_VERSION } from '../../src/model/resource.js';
import type { ProxyRollout } from '../../src/model/rollout.js';
import { ManualClock } from '../helpers/manual-clock.js';

test('create writes a new manifest the store then serves; an existing or invalid object is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-create-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new FileStore({ manifestDir: join(dir, 'm'), stateDir: join(dir, 's'), log: pino({ level: 'silent' }), clock: new ManualClock(), watchFiles: false });
  await store.start();
  t.after(() => store.close());
  const rollout: ProxyRollout = { apiVersion: API_VERSION, kind: 'ProxyRollout', metadata: { name: 'debug-promote', namespace: 'default' }, spec: { version: '17.4.9', paused: true } };
  await store.create(rollout);
  assert.equal((await store.get('ProxyRollout', 'default', 'debug-promote'))?.spec.version, '17.4.9');
  assert.match(await readFile(join(dir, 'm', 'proxyrollout-debug-promote.yaml'), 'utf8'), /^# Created by Meridian; commit it to keep it\.\napiVersion: meridian\.dev\/v1alpha1\nkind: ProxyRollout/);
  await assert.rejects(store.create(rollout), /ProxyRollout\/default\/debug-promote already exists/);
  await assert.rejects(store.create({ ...rollout, metadata: { name: 'bad', namespace: 'default' }, spec: { version: 'latest' } }), /cannot create ProxyRollout\/default\/bad: spec\.version/);
});
