import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { capture, stoppable } from '../helpers/capture-io.js';
import { copyDemoFleet } from '../helpers/demo-fleet-copy.js';
import { waitFor } from '../helpers/wait.js';

/** Runs `meridian demo` until the returned stop is called; resolves once the banner is out. */
async function demo(manifests: string, state: string): Promise<{ banner: string; stop: () => Promise<number> }> {
  const io = stoppable();
  const args = ['demo', '--manifests', manifests, '--state', state, '--admin', '127.0.0.1:0', '--public', '127.0.0.1:0', '--sim-control', '127.0.0.1:0', '--log-level', 'fatal'];
  const exit = runCli(args, io);
  const banner = await Promise.race([
    waitFor('the banner', async () => (io.stdout.includes('Canary ') ? io.stdout : undefined), 30_000),
    exit.then((code) => assert.fail(`demo exited ${code}: ${io.stderr}`)),
  ]);
  return { banner, stop: () => (io.stop(), exit) };
}

test('meridian demo runs the simulator, makes a canary key once in its state directory and prints an invite command that works', { timeout: 90_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-demo-'));
  const manifests = join(dir, 'manifests');
  await copyDemoFleet(manifests);
  const state = join(dir, 'state');
  const keyFile = join(state, 'canary.key');
  const configured = process.env['MERIDIAN_CANARY_KEY_FILE'];
  delete process.env['MERIDIAN_CANARY_KEY_FILE'];
  t.after(() => void (configured === undefined ? undefined : (process.env['MERIDIAN_CANARY_KEY_FILE'] = configured)));

  const first = await demo(manifests, state);
  let running: typeof first | undefined = first;
  // Stopped first, then removed: a demo still running writes into its state directory.
  t.after(async () => {
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const simulator = /Simulator +(http:\/\/\S+)/.exec(first.banner)?.[1];
  assert.ok(simulator, first.banner);
  assert.equal((await fetch(`${simulator}/proxies`)).status, 200, 'the simulator answers on its control API');
  const loginUrl = /Login URL +(http:\/\/\S+)/.exec(first.banner)?.[1];
  const command = /^ {2}Canary +(npx meridian .*)$/m.exec(first.banner)?.[1];
  // A week of real time on the default compressed clock (60x): 420 simulated days.
  assert.equal(command, `npx meridian canary invite debug-build --ttl 420d --key-file ${keyFile} --login-url ${loginUrl}`);

  const key = await readFile(keyFile, 'utf8');
  assert.match(key, /^[0-9a-f]{64}\n$/, '32 random bytes, hex');
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);

  // The printed command, run as printed, signs a link the running controller accepts as its own.
  const invite = capture();
  assert.equal(await runCli(command.split(' ').slice(2), invite), 0, invite.stderr);
  const link = invite.stdout.trim();
  assert.ok(link.startsWith(`${loginUrl}/canary/join?t=`), link);
  const joined = await fetch(link, { redirect: 'manual' });
  const page = await joined.text();
  // Not "not enabled" nor "not issued by this login service": only the canary is not started yet.
  assert.equal(joined.status, 403);
  assert.match(page, /is not running/);

  running = undefined;
  assert.equal(await first.stop(), 0);
  const second = await demo(manifests, state);
  running = second;
  assert.equal(await readFile(keyFile, 'utf8'), key, 'a restart keeps the key: links given out stay valid');
});
