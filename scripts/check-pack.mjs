#!/usr/bin/env node
/**
 * Proves the published package runs on its production dependencies alone: packs the project (the build in dist/ as it
 * is: run `npm run build` first), installs the tarball into a clean temporary directory with `npm install --omit=dev`,
 * checks no TypeScript tooling came with it, then through the installed `meridian` bin runs `validate` on the bundled
 * examples/fleet, `start` on a copy of it (on free loopback ports; its proxies need not be reachable) and
 * `status --server` against that controller, and stops it. Prints each check; exits non-zero at the first that fails,
 * and removes what it made either way. Plain JavaScript so that it needs nothing installed: `.ci/run` calls it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** What would run TypeScript at run time; none of it may come with a production install. */
const DEV_TOOLING = ['tsx', 'esbuild', 'typescript'];
const STARTUP_MS = 30_000;
const STOP_MS = 15_000;

const work = mkdtempSync(join(tmpdir(), 'meridian-check-pack-'));
/** The controller `start` runs, while it runs: cleanup stops it. */
let controller;
const cleanup = () => {
  if (controller && controller.exitCode === null && controller.signalCode === null) controller.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

class CheckFailed extends Error {}
const fail = (message) => {
  throw new CheckFailed(message);
};
let stepStart = performance.now();
const ok = (message) => {
  console.log(`check-pack: ok  ${message}  (${((performance.now() - stepStart) / 1000).toFixed(1)} s)`);
  stepStart = performance.now();
};

/** The environment of everything the installed package runs: nothing that could bring tsx back, no Meridian settings from outside. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MERIDIAN_') && k !== 'NODE_OPTIONS'));

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', env: cleanEnv, timeout: 300_000, ...options });
  if (r.error) fail(`${command} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) fail(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Package directories under node_modules, nested ones too, as `name` or `@scope/name`. */
function installedPackages(nodeModules) {
  if (!existsSync(nodeModules)) return [];
  return readdirSync(nodeModules, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .flatMap((e) => (e.name.startsWith('@') ? readdirSync(join(nodeModules, e.name)).map((n) => `${e.name}/${n}`) : [e.name]))
    .flatMap((name) => [name, ...installedPackages(join(nodeModules, name, 'node_modules'))]);
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function newestSourceMs(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).reduce((max, e) => (e.isFile() ? Math.max(max, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs) : max), 0);
}

async function main() {
  const entry = join(REPO, 'dist/cli/entry.js');
  if (!existsSync(entry)) fail('no build in dist/: run `npm run build` first');
  const stale = existsSync(join(REPO, 'src')) && newestSourceMs(join(REPO, 'src')) > statSync(entry).mtimeMs;

  // The tarball `npm publish` would upload. Its prepack step (the build) is skipped: dist/ is what gets checked.
  const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO }));
  const files = packed.files.map((f) => f.path);
  for (const needed of ['bin/meridian.js', 'dist/cli/entry.js', 'examples/fleet/fleet.yaml']) if (!files.includes(needed)) fail(`the package lacks ${needed}`);
  const sources = files.filter((f) => f.startsWith('src/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
  if (sources.length) fail(`the package holds TypeScript sources: ${sources.slice(0, 5).join(', ')}${sources.length > 5 ? ', ...' : ''}`);
  ok(`packed ${packed.filename}: ${files.length} files, ${(packed.size / 1e6).toFixed(1)} MB, the build and the bin, no src/ and no .ts${stale ? ' (note: src/ changed after this build)' : ''}`);

  // A clean project that depends on the tarball alone, installed as a user's production install would be.
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'meridian-check-pack', private: true }));
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed.filename)], { cwd: app });
  const installed = installedPackages(join(app, 'node_modules'));
  const tooling = installed.filter((name) => DEV_TOOLING.includes(name) || name.startsWith('@esbuild/'));
  if (tooling.length) fail(`npm install --omit=dev installed TypeScript tooling: ${tooling.join(', ')}`);
  const pkgDir = join(app, 'node_modules/meridian');
  const resolvable = DEV_TOOLING.filter((name) => {
    try {
      createRequire(join(pkgDir, 'package.json')).resolve(name);
      return true;
    } catch {
      return false;
    }
  });
  if (resolvable.length) fail(`the installed package can still resolve ${resolvable.join(', ')} (from a directory above ${work}?)`);
  ok(`npm install --omit=dev of the tarball: ${installed.length} packages, none of ${DEV_TOOLING.join(', ')}, @esbuild/*; the package cannot resolve them`);

  const meridian = join(app, 'node_modules/.bin/meridian');
  const fleetDir = join(pkgDir, 'examples/fleet');
  const validated = run(meridian, ['validate', fleetDir], { cwd: work });
  ok(`meridian validate <package>/examples/fleet: exit 0 (${validated.trim().split('\n').at(-1)})`);

  // `start` on a copy (the controller may write beside its manifests' state, never into the package).
  const manifests = join(work, 'fleet');
  cpSync(fleetDir, manifests, { recursive: true });
  const [adminPort, publicPort] = [await freePort(), await freePort()];
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const args = ['start', '--manifests', manifests, '--state', join(work, 'state'), '--admin', `127.0.0.1:${adminPort}`, '--public', `127.0.0.1:${publicPort}`];
  let output = '';
  controller = spawn(meridian, args, { cwd: work, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => controller.once('exit', (code, signal) => resolve(code ?? signal)));
  controller.stdout.on('data', (b) => (output += b));
  controller.stderr.on('data', (b) => (output += b));
  const tail = () => output.trim().split('\n').slice(-20).join('\n');
  // Up when the admin API answers /healthz (the log line's wording is no contract).
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    if (controller.exitCode !== null || controller.signalCode !== null) fail(`meridian start exited ${await exited} before its admin API answered:\n${tail()}`);
    const healthy = await fetch(`${adminUrl}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (healthy) break;
    if (Date.now() > deadline) fail(`meridian start: no answer on ${adminUrl}/healthz after ${STARTUP_MS / 1000} s:\n${tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  ok(`meridian start --manifests <copy of examples/fleet> --admin 127.0.0.1:${adminPort} --public 127.0.0.1:${publicPort}: ${adminUrl}/healthz answers 200`);

  const status = run(meridian, ['status', '--server', adminUrl], { cwd: work });
  // The proxies the manifest lists (the items of spec.proxies, read without a YAML parser: this script installs nothing).
  const fleetYaml = readFileSync(join(manifests, 'fleet.yaml'), 'utf8');
  const proxiesAt = fleetYaml.search(/^ {2}proxies:/m);
  const proxiesYaml = proxiesAt < 0 ? '' : fleetYaml.slice(proxiesAt).split(/\n(?= {2}\S)/)[0];
  const proxies = [...proxiesYaml.matchAll(/^ {4}- name: ([\w.-]+)/gm)].map((m) => m[1]);
  const missing = proxies.filter((p) => !status.includes(p));
  if (!proxies.length || missing.length) fail(`meridian status --server ${adminUrl} lacks proxies of the fleet (${missing.join(', ') || 'none found in fleet.yaml'}):\n${status}`);
  ok(`meridian status --server ${adminUrl}: exit 0, lists all ${proxies.length} proxies of the fleet`);

  controller.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), STOP_MS))]);
  if (code !== 0) fail(`meridian start after SIGTERM: ${code === 'still running' ? `still running after ${STOP_MS / 1000} s` : `exited ${code}`}:\n${tail()}`);
  ok('meridian start stopped on SIGTERM: exit 0');
}

try {
  await main();
  console.log('check-pack: the packed package runs validate, start and status --server with no dev dependencies installed');
} catch (e) {
  console.error(`check-pack: FAILED  ${e instanceof CheckFailed ? e.message : e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
