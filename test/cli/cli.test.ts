import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { openGeoDatabase, type GeoDatabase } from '../../src/adapters/geoip/index.js';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { explainChoice } from '../../src/redirect/core/explain-choice.js';
import { table } from '../redirect/core/redirect-fixture.js';
import { fleetView } from '../../src/admin/fleet-view.js';
import { COMMANDS, runCli } from '../../src/cli/main.js';
import { capture } from '../helpers/capture-io.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';
import { NO_ROLLOUTS } from '../helpers/admin-deps.js';


test('validate accepts the bundled demo fleet', async () => {
  const io = capture();
  assert.equal(await runCli(['validate', 'examples/fleet'], io), 0);
  assert.match(io.stdout, /examples\/fleet: valid \(1 ProxyFleet, 1 ProxyPeering\)/);
});

test('validate names file, line and field of each problem and exits 1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const text = (await readFile('examples/fleet/fleet.yaml', 'utf8')).replace('      region: sydney\n', '      region: mars\n').replace('timeZone: Asia/Tokyo', 'timeZone: Asia/Tokio');
  await writeFile(join(dir, 'fleet.yaml'), text);
  const lines = text.split('\n');
  const regionLine = lines.findIndex((l) => l === '      region: mars') + 1;
  const tzLine = lines.findIndex((l) => l.includes('Asia/Tokio')) + 1;
  const io = capture();
  assert.equal(await runCli(['validate', dir], io), 1);
  assert.match(io.stderr, new RegExp(`fleet\\.yaml:${tzLine}:7: spec\\.regions\\[0\\]\\.timeZone: unknown IANA time zone "Asia/Tokio"`));
  assert.match(io.stderr, new RegExp(`fleet\\.yaml:${regionLine}:7: spec\\.proxies\\[3\\]\\.region: region "mars" is not defined in spec\\.regions`));
  assert.match(io.stderr, /2 problems in /);
});

test('validate points a rollout or canary naming what the fleet lacks at that field, and takes percentages', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'fleet.yaml'), await readFile('examples/fleet/fleet.yaml', 'utf8'));
  const rollout = [
    'apiVersion: meridian.dev/v1alpha1',
    'kind: ProxyRollout',
    'metadata:',
    '  name: up',
    'spec:',
    '  fleet: demo',
    '  version: 17.4.8',
    '  maxUnavailable: 50%',
    '  selector:',
    '    regions:',
    '      - tokyo',
    '      - mars',
    '',
  ].join('\n');
  const canary = [
    'apiVersion: meridian.dev/v1alpha1',
    'kind: ProxyCanary',
    'metadata:',
    '  name: try',
    'spec:',
    '  build: { version: 17.4.9 }',
    '  subset:',
    '    proxies: [tokyo-1, pluto-1]',
    '',
  ].join('\n');
  await writeFile(join(dir, 'rollout.yaml'), rollout);
  await writeFile(join(dir, 'canary.yaml'), canary);
  const io = capture();
  assert.equal(await runCli(['validate', dir], io), 1);
  assert.match(io.stderr, new RegExp(`^${join(dir, 'rollout.yaml')}:12:9: spec\\.selector\\.regions\\[1\\]: region "mars" is not in the fleet$`, 'm'));
  assert.match(io.stderr, new RegExp(`^${join(dir, 'canary.yaml')}:8:24: spec\\.subset\\.proxies\\[1\\]: proxy "pluto-1" is not in the fleet$`, 'm'));
  assert.match(io.stderr, /^2 problems in /m);

  await writeFile(join(dir, 'rollout.yaml'), rollout.replace('      - mars\n', ''));
  await writeFile(join(dir, 'canary.yaml'), canary.replace('proxies: [tokyo-1, pluto-1]', 'perRegion: 50%'));
  const fixed = capture();
  assert.equal(await runCli(['validate', dir], fixed), 0, fixed.stderr);
  assert.match(fixed.stdout, /valid \(1 ProxyCanary, 1 ProxyFleet, 1 ProxyRollout\)/);
  const one = capture();
  assert.equal(await runCli(['validate', join(dir, 'rollout.yaml')], one), 0, one.stderr);
  assert.match(one.stdout, /rollout\.yaml: valid \(1 ProxyRollout\)/);
});

test('unknown commands and flags exit 2 or 1 with a pointer to help', async () => {
  const io = capture();
  assert.equal(await runCli(['frobnicate'], io), 2);
  assert.match(io.stderr, /unknown command "frobnicate"/);
  const io2 = capture();
  assert.equal(await runCli(['status', '--bogus'], io2), 1);
  assert.match(io2.stderr, /meridian status: .*--bogus.*\(see meridian --help\)/);
});

test('start without a manifests directory refuses, naming --manifests and meridian demo; it has no simulator flags', async () => {
  const given = process.env['MERIDIAN_MANIFEST_DIR'];
  delete process.env['MERIDIAN_MANIFEST_DIR'];
  try {
    const io = capture();
    assert.equal(await runCli(['start', '--admin', '127.0.0.1:0', '--public', '127.0.0.1:0'], io), 2);
    assert.match(io.stderr, /^meridian start: no manifests directory: give --manifests DIR \(or MERIDIAN_MANIFEST_DIR\);.* run meridian demo/);
    assert.equal(io.stdout, '', 'nothing started');
  } finally {
    if (given !== undefined) process.env['MERIDIAN_MANIFEST_DIR'] = given;
  }
  for (const flag of ['--no-sim', '--time-factor=60', '--sim-control=127.0.0.1:7300']) {
    const io = capture();
    assert.equal(await runCli(['start', '--manifests', 'examples/fleet', flag], io), 1, flag);
    assert.match(io.stderr, /Unknown option/, flag);
  }
  assert.match(COMMANDS['start']?.usage ?? '', /--sim-clock URL/);
  assert.doesNotMatch(COMMANDS['start']?.usage ?? '', /--no-sim|--time-factor/);
});

test('every subcommand of the dispatch table answers --help and -h with its usage and exits 0', async () => {
  const names = Object.keys(COMMANDS);
  assert.ok(names.length >= 10 && names.includes('rollout') && names.includes('validate'));
  for (const name of names)
    for (const args of [[name, '--help'], [name, '-h'], [name, 'status', 'x', '--help'], ['help', name]]) {
      const io = capture();
      assert.equal(await runCli(args, io), 0, `${args.join(' ')}: ${io.stderr}`);
      assert.match(io.stdout, new RegExp(`^Usage: meridian ${name} `), args.join(' '));
      assert.equal(io.stderr, '', args.join(' '));
    }
  // After "--" it is a value, not a flag.
  const io = capture();
  assert.equal(await runCli(['validate', '--', '--help'], io), 1);
});

test('status prints a table per region from a running admin API, and --json the raw answer', async (t) => {
  const snap = snapshot([
    observation('tokyo-1', 'tokyo'),
    observation('tokyo-2', 'tokyo', { ready: false, readyzStatus: 400, metrics: metrics({ processState: 'starting' }) }),
    observation('london-1', 'london', { up: false, ready: false, error: { reason: 'timeout', message: 'http://127.0.0.1:3/metrics: no complete answer within 2000 ms', at: '2026-01-01T00:00:00.000Z' } }),
  ]);
  const app = await buildAdminApp({
    log: pino({ level: 'silent' }),
    registry: new Registry(),
    ...NO_ROLLOUTS,
    notReadyReason: () => undefined,
    fleets: async () => ({ fleets: [fleetView(fleet(), snap)] }),
    problems: () => ({ problems: [] }),
    explain: () => undefined,
  });
  t.after(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const io = capture();
  assert.equal(await runCli(['status', '--server', url], io), 0);
  assert.match(io.stdout, /^Tokyo \(tokyo, Asia\/Tokyo\)  1\/2 ready, 32 sessions$/m);
  assert.match(io.stdout, /^ {2}tokyo-2 +17\.4\.2 +no \(starting\) +16 +5 +-$/m);
  assert.match(io.stdout, /^ {2}london-1 +17\.4\.2 +down +16 +5 +timeout: http:\/\/127\.0\.0\.1:3\/metrics: no complete answer within 2000 ms$/m);
  const json = capture();
  assert.equal(await runCli(['status', '--server', url, '--json'], json), 0);
  assert.equal(JSON.parse(json.stdout).fleets[0].regions[1].proxies[0].error.reason, 'timeout');
});

test('status shows the manifests the controller refused, with file, line and reason, online and offline', async (t) => {
  const app = await buildAdminApp({
    log: pino({ level: 'silent' }),
    registry: new Registry(),
    ...NO_ROLLOUTS,
    notReadyReason: () => undefined,
    fleets: async () => ({ fleets: [fleetView(fleet(), undefined)] }),
    problems: () => ({ problems: [{ source: 'manifests/fleet.yaml', line: 14, column: 7, field: 'spec.proxies[2].region', message: 'region "mars" is not defined in spec.regions' }] }),
    explain: () => undefined,
  });
  t.after(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const io = capture();
  assert.equal(await runCli(['status', '--server', url], io), 0);
  assert.match(io.stdout, /^Manifest problems \(1\), refused: the objects they define keep their last valid version:\n {2}manifests\/fleet\.yaml:14:7: spec\.proxies\[2\]\.region: region "mars" is not defined in spec\.regions$/m);
  const json = capture();
  assert.equal(await runCli(['status', '--server', url, '--json'], json), 0);
  assert.equal(JSON.parse(json.stdout).problems[0].line, 14);

  const dir = await mkdtemp(join(tmpdir(), 'meridian-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'fleet.yaml'), await readFile('examples/fleet/fleet.yaml', 'utf8'));
  await writeFile(join(dir, 'rollout.yaml'), 'apiVersion: meridian.dev/v1alpha1\nkind: ProxyRollout\nmetadata:\n  name: up\nspec:\n  version: 17.4.8\n  maxUnavailable: 0\n');
  const offline = capture();
  assert.equal(await runCli(['status', '--manifests', dir], offline), 0, offline.stderr);
  assert.match(offline.stdout, new RegExp(`^Offline, from ${dir} \\(nothing observed\\)$`, 'm'));
  assert.match(offline.stdout, new RegExp(`^ {2}${join(dir, 'rollout.yaml')}:7:3: spec\\.maxUnavailable: `, 'm'));
  assert.match(offline.stdout, /^Tokyo \(tokyo, Asia\/Tokyo\)/m);
});

test('status explains an unreachable server', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  const io = capture();
  assert.equal(await runCli(['status', '--server', `http://127.0.0.1:${port}`], io), 1);
  assert.match(io.stderr, new RegExp(`cannot reach the Meridian admin API at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
});

test('oidc redirect-urls prints one callback per demo proxy, and --sync writes a connector file', async (t) => {
  const io = capture();
  assert.equal(await runCli(['oidc', 'redirect-urls'], io), 0);
  const urls = io.stdout.trim().split('\n');
  assert.equal(urls.length, 14);
  assert.equal(urls[0], 'https://tokyo-1.proxy.example.com/v1/webapi/oidc/callback');
  const dir = await mkdtemp(join(tmpdir(), 'meridian-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'okta.yaml');
  await writeFile(file, 'kind: oidc\nversion: v3\nmetadata:\n  name: okta\nspec:\n  redirect_url: []\n');
  const sync = capture();
  assert.equal(await runCli(['oidc', 'redirect-urls', '--sync', file], sync), 0);
  assert.match(sync.stdout, /redirect_url set to 14 entries/);
  assert.match(await readFile(file, 'utf8'), /- https:\/\/sao-paulo-2\.proxy\.example\.com\/v1\/webapi\/oidc\/callback/);
});

test('explain-redirect prints the decision, the rules and every region with its distance', async (t) => {
  const db = await openGeoDatabase(['test/fixtures/geoip/geoip2-city-test.mmdb']);
  assert.ok(db.ok);
  const routing = table();
  const app = await buildAdminApp({
    log: pino({ level: 'silent' }),
    registry: new Registry(),
    ...NO_ROLLOUTS,
    notReadyReason: () => undefined,
    fleets: async () => ({ fleets: [] }),
    problems: () => ({ problems: [] }),
    explain: (ip, region) => explainChoice({ location: lookupLocation(db.value, ip), clientKey: ip, ...(region ? { regionOverride: region } : {}) }, routing),
  });
  t.after(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const io = capture();
  assert.equal(await runCli(['explain-redirect', '133.11.0.9', '--server', url], io), 0);
  assert.match(io.stdout, /^Client 133\.11\.0\.9: JP, AS at 35\.69, 139\.69$/m);
  assert.match(io.stdout, /^Decision: tokyo-\d in tokyo \(nearest, \d+ km\) -> https:\/\/tokyo-\d\.proxy\.example\.com$/m);
  assert.match(io.stdout, /^ {2}sydney +78\d\d km {2}farther/m);
  const json = capture();
  assert.equal(await runCli(['explain-redirect', '81.2.69.1', '--json', '--server', url], json), 0);
  assert.equal(JSON.parse(json.stdout).decision.region, 'london');
  const bad = capture();
  assert.equal(await runCli(['explain-redirect', 'not-an-ip', '--server', url], bad), 1);
  assert.match(bad.stderr, /answered 400: ip: not an IPv4 or IPv6 address/);
});

function lookupLocation(db: GeoDatabase, ip: string) {
  const r = db.lookup(ip);
  return r.result === 'found' ? r.location : undefined;
}
