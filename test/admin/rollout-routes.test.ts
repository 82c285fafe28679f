import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileStore } from '../../src/adapters/file-store/index.js';
import { adminAppOver } from '../helpers/admin-deps.js';
import { ManualClock } from '../helpers/manual-clock.js';

const ROLLOUT = `# held back until an operator starts it
apiVersion: meridian.dev/v1alpha1
kind: ProxyRollout
metadata:
  name: upgrade
spec:
  version: 17.4.8
  paused: true
`;

const CANARY = `apiVersion: meridian.dev/v1alpha1
kind: ProxyCanary
metadata:
  name: debug
spec:
  build: { version: 17.4.9-debug.1, debug: true }
  subset: { perRegion: 1 }
  paused: true
`;

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-rollout-api-'));
  await writeFile(join(dir, 'rollout.yaml'), ROLLOUT);
  await writeFile(join(dir, 'canary.yaml'), CANARY);
  const store = new FileStore({ manifestDir: join(dir), stateDir: join(dir, '.state'), log: pino({ level: 'silent' }), clock: new ManualClock(), watchFiles: false });
  await store.start();
  const app = await adminAppOver(store, pino({ level: 'silent' }));
  t.after(async () => {
    await app.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, store, app };
}

test('start removes spec.paused in the manifest itself, comments kept; the store sees a new generation', async (t) => {
  const { dir, store, app } = await setup(t);
  const res = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/upgrade/start' });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json<{ paused: boolean }>().paused, false);
  const text = await readFile(join(dir, 'rollout.yaml'), 'utf8');
  assert.match(text, /^# held back until an operator starts it/);
  assert.doesNotMatch(text, /paused/);
  assert.equal((await store.get('ProxyRollout', 'default', 'upgrade'))?.metadata.generation, 2);
});

test('commands that make no sense now are 409 with the reason; unknown rollouts and verbs are refused', async (t) => {
  const { app } = await setup(t);
  const resume = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/upgrade/resume' });
  assert.equal(resume.statusCode, 409);
  assert.equal(resume.json<{ message: string }>().message, 'rollout upgrade has not started; use start');
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/nope/start' })).statusCode, 404);
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/upgrade/explode' })).statusCode, 400);
  const abort = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/upgrade/abort' });
  assert.equal(abort.statusCode, 200);
  assert.deepEqual([abort.json<{ aborted: boolean; paused: boolean }>().aborted, abort.json<{ paused: boolean }>().paused], [true, false]);
  const list = await app.inject({ method: 'GET', url: '/api/v1/rollouts' });
  assert.deepEqual(list.json<{ rollouts: { name: string }[] }>().rollouts.map((r) => r.name), ['upgrade']);
});

test('canary commands: start clears spec.paused; promote and rollback only fit a baking or held canary', async (t) => {
  const { dir, app } = await setup(t);
  const early = await app.inject({ method: 'POST', url: '/api/v1/canaries/default/debug/promote' });
  assert.equal(early.statusCode, 409);
  assert.match(early.json<{ message: string }>().message, /only a Held canary is promoted by hand/);
  const start = await app.inject({ method: 'POST', url: '/api/v1/canaries/default/debug/start' });
  assert.equal(start.statusCode, 200, start.body);
  assert.deepEqual([start.json<{ build: string; paused: boolean }>().build, start.json<{ paused: boolean }>().paused], ['17.4.9-debug.1', false]);
  assert.doesNotMatch(await readFile(join(dir, 'canary.yaml'), 'utf8'), /paused/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/canaries/default/nope' })).statusCode, 404);
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/v1/canaries' })).json<{ canaries: { name: string }[] }>().canaries.map((c) => c.name), ['debug']);
});

test('the rollout view carries the Drifted condition, what each proxy waits for, and local times of windows and notices', async (t) => {
  const { store, app } = await setup(t);
  await store.updateStatus('ProxyRollout', 'default', 'upgrade', {
    phase: 'Progressing',
    startedAt: '2026-01-01T00:00:00.000Z',
    windows: [{ region: 'tokyo', startAt: '2026-01-02T17:00:00.000Z', endAt: '2026-01-02T21:00:00.000Z', timeZone: 'Asia/Tokyo' }],
    notices: [{ id: 'n1', region: 'tokyo', leadTime: '24h', windowStartAt: '2026-01-02T17:00:00.000Z', dueAt: '2026-01-01T17:00:00.000Z', message: 'upgrade', channels: [] }],
    proxies: [
      { name: 'tokyo-1', region: 'tokyo', wave: 0, step: 'Pending', waitingFor: { reason: 'Notice', until: '2026-01-01T17:00:00.000Z', untilLocal: 'Fri 2026-01-02 02:00 GMT+9', message: 'the 24h notice' } },
      { name: 'tokyo-2', region: 'tokyo', wave: 0, step: 'Done', driftedTo: '17.4.2', takeOuts: 2 },
    ],
    conditions: [{ type: 'Drifted', status: 'True', reason: 'VersionDrift', message: '1 proxy no longer runs 17.4.8: tokyo-2 runs 17.4.2', observedGeneration: 1, lastTransitionTime: '2026-01-03T00:00:00.000Z' }],
  });
  const view = (await app.inject({ method: 'GET', url: '/api/v1/rollouts/default/upgrade' })).json<import('../../src/admin/rollout-schemas.js').RolloutView>();
  assert.deepEqual(view.proxies[0]?.waitingFor, { reason: 'Notice', until: '2026-01-01T17:00:00.000Z', untilLocal: 'Fri 2026-01-02 02:00 GMT+9', message: 'the 24h notice' });
  assert.deepEqual([view.proxies[1]?.driftedTo, view.proxies[1]?.takeOuts], ['17.4.2', 2]);
  assert.equal(view.conditions.find((c) => c.type === 'Drifted')?.message, '1 proxy no longer runs 17.4.8: tokyo-2 runs 17.4.2');
  assert.equal(view.windows[0]?.startLocal, 'Sat 2026-01-03 02:00 GMT+9');
  assert.equal(view.notices[0]?.dueLocal, 'Fri 2026-01-02 02:00 GMT+9');
});
