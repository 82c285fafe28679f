import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, isPretty } from '../../src/logging/create-logger.js';
import { prettyLine } from '../../src/logging/pretty-line.js';
import { copyDemoFleet } from '../helpers/demo-fleet-copy.js';

const BIN = fileURLToPath(new URL('../../bin/meridian.js', import.meta.url));
const PRETTY = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /;

/** A fake stdout that keeps what is written. */
function output(isTTY: boolean): { isTTY: boolean; text: string; write(t: string): void } {
  const out = { isTTY, text: '', write: (t: string) => void (out.text += t) };
  return out;
}

test('auto is pretty at a terminal and JSON lines elsewhere; pretty and json force their format', () => {
  assert.equal(isPretty('auto', { isTTY: true }), true);
  assert.equal(isPretty('auto', { isTTY: false }), false);
  assert.equal(isPretty('auto', {}), false, 'no terminal known: JSON, for the log pipeline');
  assert.equal(isPretty('json', { isTTY: true }), false);
  assert.equal(isPretty('pretty', { isTTY: false }), true);

  const tty = output(true);
  createLogger({ level: 'info', format: 'auto', app: 'meridian' }, tty).info({ component: 'observer', name: 'tokyo-1' }, 'Proxy scrape failed');
  assert.match(tty.text, /^\d\d:\d\d:\d\d\.\d{3} \x1b\[32mINFO \x1b\[0m Proxy scrape failed component=observer name=tokyo-1\n$/, 'coloured at a terminal');
  const pipe = output(false);
  const log = createLogger({ level: 'warn', format: 'auto', app: 'meridian' }, pipe);
  log.info('not at this level');
  log.warn({ region: 'tokyo' }, 'Region down');
  const entry = JSON.parse(pipe.text) as Record<string, unknown>;
  assert.deepEqual([entry['level'], entry['app'], entry['region'], entry['msg']], [40, 'meridian', 'tokyo', 'Region down']);
});

test('a pretty line: time, level, message, the other fields as key=value, an error with its stack below', () => {
  const time = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
  const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at a (x.ts:1:1)\n    at b (y.ts:2:2)' };
  const line = prettyLine(JSON.stringify({ level: 50, time, pid: 1, hostname: 'h', app: 'meridian', msg: 'Hook failed', rollout: 'default/r', tries: 3, note: 'two words', err }));
  assert.equal(line, '03:04:05.006 ERROR Hook failed rollout=default/r tries=3 note="two words" err=boom\n    at a (x.ts:1:1)\n    at b (y.ts:2:2)\n');
  assert.equal(prettyLine('not json'), 'not json\n', 'passed through');
  assert.equal(prettyLine(JSON.stringify({ level: 30, time, msg: 'x', paths: ['a', 'b'] })), '03:04:05.006 INFO  x paths=["a","b"]\n');
});

/** Runs `meridian start` through the bin until its banner is out, then stops it; resolves with its stdout. */
async function startOutput(manifests: string, state: string, extra: string[]): Promise<string> {
  const args = [BIN, 'start', '--manifests', manifests, '--state', state, '--admin', '127.0.0.1:0', '--public', '127.0.0.1:0', '--observe-interval', '1h', ...extra];
  const child = spawn(process.execPath, args, { env: { ...process.env, MERIDIAN_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const banner = !stdout.includes('Admin API');
    stdout += d.toString();
    // Once: a second SIGTERM, while it stops, would end it at once.
    if (banner && stdout.includes('Admin API')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  return stdout;
}

/** The lines that are logs: not the banner `meridian start` prints for people. */
const logLines = (stdout: string): string[] => stdout.split('\n').filter((l) => l !== '' && !l.startsWith('  ') && !l.startsWith('Meridian is running'));

test('the bin logs JSON lines by default (stdout is no terminal here), and lines for people with --log-format pretty', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  await copyDemoFleet(manifests);
  const [json, pretty] = await Promise.all([startOutput(manifests, join(dir, 'json'), []), startOutput(manifests, join(dir, 'pretty'), ['--log-format', 'pretty'])]);

  const entries = logLines(json).map((l) => JSON.parse(l) as { level: number; time: number; msg: string });
  assert.ok(entries.every((e) => typeof e.level === 'number' && typeof e.time === 'number' && typeof e.msg === 'string'), json);
  assert.ok(entries.some((e) => e.msg === 'Stopping'), json);

  const lines = logLines(pretty);
  assert.ok(lines.length > 0 && lines.every((l) => PRETTY.test(l)), pretty);
  assert.ok(lines.some((l) => /^\S+ INFO  Stopping$/.test(l)), pretty);
  assert.ok(lines.some((l) => / INFO  No admin token .* component=admin-auth listen=127\.0\.0\.1:0$/.test(l)), pretty);
});
