import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT_LIMIT_BYTES, runCommand } from '../../src/adapters/hooks/run-command.js';
import { readSecret } from '../../src/adapters/hooks/read-secret.js';

const node = process.execPath;
const opts = (timeoutMs = 5_000) => ({ timeoutMs, signal: new AbortController().signal });

test('runCommand: exit code, stdout and stderr of a real program', async () => {
  const r = await runCommand([node, '-e', "process.stdout.write('out'); process.stderr.write('err'); process.exit(4)"], opts());
  assert.deepEqual(r, { code: 4, stdout: 'out', stderr: 'err' });
  assert.deepEqual(await runCommand([node, '-e', ''], opts()), { code: 0, stdout: '', stderr: '' });
});

test('runCommand: arguments reach the program verbatim, no shell', async () => {
  const args = ['a b', '$(echo hi)', '; rm -rf /', '`id`', '*', '"q"', ''];
  const r = await runCommand([node, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...args], opts());
  assert.deepEqual(JSON.parse(r.stdout), args);
});

test('runCommand: timeout, abort, a missing program and an empty argv never reject', async () => {
  const started = Date.now();
  const slow = await runCommand([node, '-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], opts(150));
  assert.equal(slow.code, null);
  assert.equal(slow.error, 'timed out after 150 ms');
  assert.ok(Date.now() - started < 5_000);

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const cancelled = await runCommand([node, '-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 10_000, signal: ac.signal });
  assert.equal(cancelled.error, 'cancelled');

  assert.equal((await runCommand(['meridian-no-such-program'], opts())).error, 'could not start (not found)');
  assert.equal((await runCommand([], opts())).error, 'the command is empty');
});

test('runCommand: output beyond the cap is not kept', async () => {
  const r = await runCommand([node, '-e', `process.stdout.write('x'.repeat(${OUTPUT_LIMIT_BYTES * 3}))`], opts());
  assert.equal(r.code, 0);
  assert.equal(r.stdout.length, OUTPUT_LIMIT_BYTES);
});

test('readSecret: trailing newlines trimmed; missing and empty files named', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-secret-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = join(dir, 'key');
  await writeFile(key, '  spaced key\n\n');
  assert.deepEqual(await readSecret(key), { ok: true, value: '  spaced key' });
  const empty = join(dir, 'empty');
  await writeFile(empty, '\n');
  assert.deepEqual(await readSecret(empty), { ok: false, error: `secret file ${empty} is empty` });
  assert.deepEqual(await readSecret(join(dir, 'nope')), { ok: false, error: `secret file ${join(dir, 'nope')} does not exist` });
});

test('runCommand: a timeout longer than a timer holds (30d) lets the command finish', async () => {
  const r = await runCommand([node, '-e', "setTimeout(() => process.stdout.write('done'), 50)"], opts(30 * 86_400_000));
  assert.deepEqual(r, { code: 0, stdout: 'done', stderr: '' });
});
