import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileStore } from '../../src/adapters/file-store/index.js';
import { runCli } from '../../src/cli/main.js';
import { adminAppOver } from '../helpers/admin-deps.js';
import { capture } from '../helpers/capture-io.js';
import { ManualClock } from '../helpers/manual-clock.js';

const ADMIN_TOKEN = 'c1b2c3d4e5f60718293a4b5c6d7e8f90';
const READ_TOKEN = 'd1b2c3d4e5f60718293a4b5c6d7e8f90';

test('the CLI sends the bearer token of --token-file with commands and reads; without it the controller refuses', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-token-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'rollout.yaml'), 'apiVersion: meridian.dev/v1alpha1\nkind: ProxyRollout\nmetadata:\n  name: demo\nspec:\n  version: 17.4.8\n  paused: true\n');
  const store = new FileStore({ manifestDir: dir, stateDir: join(dir, '.state'), log: pino({ level: 'silent' }), clock: new ManualClock(), watchFiles: false });
  await store.start();
  const app = await adminAppOver(store, pino({ level: 'silent' }), { admin: [{ name: 'alice', token: ADMIN_TOKEN }], read: [{ name: 'grafana', token: READ_TOKEN }] });
  const server = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  const tokens = join(dir, 'tokens');
  await writeFile(tokens, `# mine\nalice:${ADMIN_TOKEN}\n`, { mode: 0o600 });
  const readerTokens = join(dir, 'read-tokens');
  await writeFile(readerTokens, `${READ_TOKEN}\n`, { mode: 0o600 });

  const refused = capture();
  assert.equal(await runCli(['rollout', 'start', 'demo', '--server', server], refused), 1);
  assert.match(refused.stderr, /answered 401: this request needs a bearer token/);
  assert.equal((await store.get('ProxyRollout', 'default', 'demo'))?.spec.paused, true);

  const reader = capture();
  assert.equal(await runCli(['rollout', 'start', 'demo', `--token-file=${readerTokens}`, '--server', server], reader), 1);
  assert.match(reader.stderr, /answered 403: this token may only read/);
  const status = capture();
  assert.equal(await runCli(['rollout', 'status', '--server', server, '--token-file', readerTokens], status), 0, status.stderr);
  assert.match(status.stdout, /demo/);

  const started = capture();
  assert.equal(await runCli(['rollout', 'start', 'demo', '--server', server, '--token-file', tokens], started), 0, started.stderr);
  assert.equal((await store.get('ProxyRollout', 'default', 'demo'))?.spec.paused, undefined);

  // Without --token-file, the file MERIDIAN_ADMIN_TOKEN_FILE names (the controller's own setting).
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/meridian.js', 'rollout', 'pause', 'demo', '--server', server], { env: { ...process.env, ...env } }, (e, _out, stderr) =>
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stderr }),
      );
    });
  const viaEnv = await run({ MERIDIAN_ADMIN_TOKEN_FILE: tokens });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal((await store.get('ProxyRollout', 'default', 'demo'))?.spec.paused, true);

  const missing = capture();
  assert.equal(await runCli(['rollout', 'pause', 'demo', '--server', server, '--token-file', join(dir, 'nope')], missing), 1);
  assert.match(missing.stderr, new RegExp(`--token-file: token file ${join(dir, 'nope')} does not exist`));
  await writeFile(join(dir, 'two'), `alice:${ADMIN_TOKEN}\nbob:e1b2c3d4e5f60718293a4b5c6d7e8f90\n`, { mode: 0o600 });
  const two = capture();
  assert.equal(await runCli(['rollout', 'pause', 'demo', '--server', server, '--token-file', join(dir, 'two')], two), 1);
  assert.match(two.stderr, /holds 2 tokens \(alice, bob\); give the CLI a file with only yours/);
});
