// Bad input to the standalone file store, the manifest loader and the offline CLI: each problem names
// the file and line, and what is in force stays in force until a valid edit or a clean removal.
// Every test builds its own temporary directories (fs.mkdtempSync under os.tmpdir()) and removes them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { FileStore, type FileStoreDeps } from '../../src/adapters/file-store/file-store.js';
import { formatProblem } from '../../src/adapters/file-store/format-problem.js';
import { loadManifestDir } from '../../src/adapters/file-store/manifest-loader.js';
import { patchManifestFile } from '../../src/adapters/file-store/manifest-patch.js';
import { parseManifestText } from '../../src/adapters/file-store/manifest-parse.js';
import { runCli } from '../../src/cli/main.js';
import { formatPath } from '../../src/model/field-error.js';
import type { ProxyFleetStatus } from '../../src/model/fleet.js';
import type { ResourceKey } from '../../src/model/resource.js';
import type { ProxyRolloutStatus } from '../../src/model/rollout.js';
import type { ManifestProblem } from '../../src/model/store.js';
import { capture } from '../helpers/capture-io.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { defer, smallFleet, VALID_FLEET } from './helpers.js';

const REPO = join(import.meta.dirname, '..', '..');

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A temporary directory removed after the test (after every store of the test is closed). */
function tmp(t: TestContext, prefix = 'meridian-bad-input-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Env {
  readonly root: string;
  readonly manifestDir: string;
  readonly stateDir: string;
}

function dirs(t: TestContext): Env {
  const root = tmp(t);
  const manifestDir = join(root, 'manifests');
  mkdirSync(manifestDir);
  return { root, manifestDir, stateDir: join(root, 'state') };
}

function write(dir: string, file: string, data: string | Uint8Array): string {
  const path = join(dir, file);
  writeFileSync(path, data);
  return path;
}

interface Started {
  readonly store: FileStore;
  readonly logs: Record<string, unknown>[];
}

/** A started store that scans only when told (no watch, no periodic rescan) unless `over` says otherwise. */
async function start(t: TestContext, env: Env, over: Partial<FileStoreDeps> = {}): Promise<Started> {
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  const store = new FileStore({
    manifestDir: env.manifestDir,
    stateDir: env.stateDir,
    log,
    clock: new ManualClock(),
    watchFiles: false,
    rescanIntervalMs: 3_600_000,
    ...over,
  });
  defer(t, () => store.close());
  await store.start();
  return { store, logs };
}

/** `name@generation:firstProxyVersion` of every ProxyFleet served. */
async function fleets(store: FileStore): Promise<string[]> {
  return (await store.list('ProxyFleet')).map((f) => `${f.metadata.name}@${f.metadata.generation}:${f.spec.proxies[0]?.version ?? '?'}`);
}

function problemTexts(problems: readonly ManifestProblem[]): string[] {
  return problems.map(formatProblem);
}

/** Replaces exactly one occurrence. */
function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`"${from}" must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** Billion laughs: `levels` anchors, each a list of `width` aliases of the one before. */
function aliasBomb(levels: number, width: number, indent = ''): string {
  let s = `${indent}l0: &l0 ["lol"]\n`;
  for (let i = 1; i < levels; i++) s += `${indent}l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]\n`;
  return s;
}

const MAIN = { kind: 'ProxyFleet', namespace: 'default', name: 'main' } as const;

// ---------------------------------------------------------------------------------------------
// Parsing: what is wrong, and where
// ---------------------------------------------------------------------------------------------

test('a tab used as indentation is refused at its line and column, naming the file', () => {
  const text = edit(VALID_FLEET, '  name: main\n', '\tname: main\n');
  const r = parseManifestText(text, '/m/fleet.yaml', 'fleet.yaml');
  assert.equal(r.accepted.length, 0);
  assert.equal(r.rejected.length, 1);
  assert.deepEqual(problemTexts(r.problems), ['/m/fleet.yaml:4:1: Tabs are not allowed as indentation']);
});

// The parser notices a missing closing quote where it gives up, at the end of the document; the problem
// points at the opening quote instead, so in a long file the operator is sent to the line to fix.
test('an unclosed quote is reported on the line where the quote opens', () => {
  const text = edit(VALID_FLEET, 'timeZone: Asia/Tokyo\n', 'timeZone: "Asia/Tokyo\n');
  const r = parseManifestText(text, '/m/fleet.yaml', 'fleet.yaml');
  assert.equal(r.accepted.length, 0);
  // The quote opens on line 10 (spec.regions[0].timeZone), column 17; the file has 26 lines.
  assert.deepEqual(problemTexts(r.problems), ['/m/fleet.yaml:10:17: Missing closing "quote']);
  const single = parseManifestText(edit(VALID_FLEET, 'name: london\n', "name: 'london\n"), '/m/fleet.yaml', 'fleet.yaml');
  assert.deepEqual(problemTexts(single.problems), ["/m/fleet.yaml:11:13: Missing closing 'quote"]);
});

test('a duplicate key is refused at the duplicate, naming the file', () => {
  const text = edit(VALID_FLEET, 'kind: ProxyFleet\n', 'kind: ProxyFleet\nkind: ProxyFleet\n');
  const r = parseManifestText(text, '/m/fleet.yaml', 'fleet.yaml');
  assert.equal(r.accepted.length, 0);
  assert.deepEqual(problemTexts(r.problems), ['/m/fleet.yaml:3:1: Map keys must be unique']);
});

test('a multi-document file with one bad document: the good ones load, the bad one is named at its own line', async (t) => {
  const dir = tmp(t);
  const bad = smallFleet('two').replace('latitude: 48.86', 'latitude: north');
  const file = write(dir, 'fleets.yaml', [smallFleet('one'), bad, smallFleet('three')].join('---\n'));
  const load = await loadManifestDir(dir);
  assert.deepEqual(load.resources.map((d) => d.key.name), ['one', 'three']);
  assert.deepEqual(load.rejected.map((d) => [d.document, d.key?.name]), [[1, 'two']]);
  // smallFleet has 16 lines; document 2 starts on line 18, its latitude is its line 8.
  assert.deepEqual(problemTexts(load.problems), [`${file}:25:7: spec.regions[0].latitude: must be number`]);
});

test('a billion-laughs alias bomb is refused (alias limit), standalone or inside a manifest, naming the file', () => {
  const top = parseManifestText(aliasBomb(12, 10), '/m/bomb.yaml', 'bomb.yaml');
  assert.equal(top.accepted.length, 0);
  assert.equal(top.rejected.length, 1);
  assert.equal(top.problems.length, 1);
  assert.match(formatProblem(top.problems[0] ?? { source: '', error: { path: [], message: '' } }), /^\/m\/bomb\.yaml:1:1: .*(alias|resource exhaustion)/i);

  const inSpec = edit(VALID_FLEET, 'spec:\n', `spec:\n${aliasBomb(12, 10, '  ')}`);
  const r = parseManifestText(inSpec, '/m/fleet.yaml', 'fleet.yaml');
  assert.equal(r.accepted.length, 0);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]?.source, '/m/fleet.yaml');
  assert.match(r.problems[0]?.error.message ?? '', /alias|resource exhaustion/i);

  // A bomb in a document that also has a syntax error takes the same guarded path.
  const broken = parseManifestText(`${aliasBomb(12, 10)}bad: "unclosed\n`, '/m/b.yaml', 'b.yaml');
  assert.equal(broken.accepted.length, 0);
  assert.ok(broken.problems.length >= 1);
});

test('a binary file is refused with a problem naming the file; the other files still load', async (t) => {
  const dir = tmp(t);
  write(dir, 'fleet.yaml', VALID_FLEET);
  // gzip of "hello"
  const bin = write(dir, 'blob.yaml', Uint8Array.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0, 0x86, 0xa6, 0x10, 0x36, 5, 0, 0, 0]));
  const load = await loadManifestDir(dir);
  assert.deepEqual(load.resources.map((d) => d.key.name), ['main']);
  assert.equal(load.problems.length, 1);
  assert.equal(load.problems[0]?.source, bin);
  assert.equal(load.problems[0]?.line, 1);
});

// A file that is not UTF-8 (here Latin-1) would otherwise be decoded with U+FFFD replacement: the operator's
// "René" (Latin-1 0xE9) would be served as "Ren\uFFFD". It is refused at the line of the first bad byte,
// and the store keeps serving what the file defined before.
test('a manifest that is not valid UTF-8 is refused at the line of the bad byte; the store keeps its last version', async (t) => {
  const env = dirs(t);
  const head = VALID_FLEET.slice(0, VALID_FLEET.indexOf('spec:'));
  const tail = VALID_FLEET.slice(VALID_FLEET.indexOf('spec:'));
  const bytes = Buffer.concat([Buffer.from(`${head}  annotations:\n    owner: Ren`), Buffer.from([0xe9]), Buffer.from(`\n${tail}`)]);
  const file = write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await start(t, env);
  write(env.manifestDir, 'fleet.yaml', bytes);
  const load = await loadManifestDir(env.manifestDir);
  assert.equal(load.resources.length, 0);
  assert.deepEqual(problemTexts(load.problems), [`${file}:6:1: not UTF-8 text`]);
  await store.rescan();
  assert.deepEqual(problemTexts(store.problems()), [`${file}:6:1: not UTF-8 text`]);
  const served = await store.get('ProxyFleet', 'default', 'main');
  assert.deepEqual([served?.metadata.generation, served?.metadata.annotations], [1, undefined]);
});

test('an empty file and a file of only comments define nothing and are no problem', async (t) => {
  const dir = tmp(t);
  write(dir, 'empty.yaml', '');
  write(dir, 'comments.yaml', '# nothing here yet\n# apiVersion: meridian.dev/v1alpha1\n');
  write(dir, 'separators.yaml', '---\n---\n');
  const load = await loadManifestDir(dir);
  assert.deepEqual([load.resources.length, load.rejected.length, load.problems.length, load.ignored.length], [0, 0, 0, 0]);
});

test('a document that is a list or a scalar is refused at its own line, in a multi-document file', async (t) => {
  const dir = tmp(t);
  const file = write(dir, 'mixed.yaml', `${smallFleet('one')}---\n- a\n- b\n---\njust a string\n---\n42\n`);
  const load = await loadManifestDir(dir);
  assert.deepEqual(load.resources.map((d) => d.key.name), ['one']);
  assert.deepEqual(problemTexts(load.problems), [
    `${file}:18:1: a manifest must be a mapping`,
    `${file}:21:1: a manifest must be a mapping`,
    `${file}:23:1: a manifest must be a mapping`,
  ]);
});

test('a wrong apiVersion or kind names the field and its line; a foreign object is skipped, not refused', () => {
  const wrongApi = parseManifestText(edit(VALID_FLEET, 'meridian.dev/v1alpha1', 'meridian.dev/v1'), '/m/a.yaml', 'a.yaml');
  assert.deepEqual(problemTexts(wrongApi.problems), ['/m/a.yaml:1:1: apiVersion: must be "meridian.dev/v1alpha1"']);
  const wrongKind = parseManifestText(edit(VALID_FLEET, 'kind: ProxyFleet', 'kind: ProxyFleeet'), '/m/k.yaml', 'k.yaml');
  assert.deepEqual(problemTexts(wrongKind.problems), ['/m/k.yaml:2:1: kind: unknown kind "ProxyFleeet" (known: ProxyFleet, ProxyRollout, ProxyCanary, ProxyPeering)']);
  const groupTypo = parseManifestText(edit(VALID_FLEET, 'kind: ProxyFleet', 'kind: Fleet'), '/m/g.yaml', 'g.yaml');
  assert.match(formatProblem(groupTypo.problems[0] ?? { source: '', error: { path: [], message: '' } }), /^\/m\/g\.yaml:2:1: kind: unknown kind "Fleet"/);
  const foreign = parseManifestText('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n', '/m/d.yaml', 'd.yaml');
  assert.deepEqual([foreign.problems.length, foreign.ignored.length, foreign.ignored[0]?.kind], [0, 1, 'Deployment']);
});

test('two files declaring the same kind/namespace/name: the second is refused, naming the first file and line', async (t) => {
  const dir = tmp(t);
  const a = write(dir, 'a.yaml', smallFleet('dup'));
  const b = write(dir, 'b.yaml', smallFleet('dup', '18.0.0'));
  const load = await loadManifestDir(dir);
  assert.deepEqual(load.resources.map((d) => d.source), [a]);
  assert.deepEqual(problemTexts(load.problems), [`${b}:4:3: metadata.name: ProxyFleet/default/dup is already defined at ${a}:4`]);
});

test('huge numbers are refused at their field and line, not accepted as Infinity', () => {
  const lat = parseManifestText(edit(VALID_FLEET, 'latitude: 35.68', 'latitude: 1e999'), '/m/f.yaml', 'f.yaml');
  assert.equal(lat.accepted.length, 0);
  assert.deepEqual(lat.problems.map((p) => `${p.line}:${p.column} ${formatPath(p.error.path)}`), ['8:7 spec.regions[0].latitude']);
  const cap = parseManifestText(edit(VALID_FLEET, '      version: 17.4.2\n    - name: london-1', '      version: 17.4.2\n      capacity: 1e400\n    - name: london-1'), '/m/f.yaml', 'f.yaml');
  assert.equal(cap.accepted.length, 0);
  assert.deepEqual(cap.problems.map((p) => `${p.line}:${p.column} ${formatPath(p.error.path)}`), ['21:7 spec.proxies[0].capacity']);
  const inf = parseManifestText(edit(VALID_FLEET, 'longitude: 139.65', 'longitude: .inf'), '/m/f.yaml', 'f.yaml');
  assert.deepEqual(inf.problems.map((p) => formatPath(p.error.path)), ['spec.regions[0].longitude']);
});

test('a name that is not a DNS name is refused at metadata.name', () => {
  for (const name of ['Main_Fleet', '-main', 'main-', 'main fleet', '"main/other"']) {
    const r = parseManifestText(edit(VALID_FLEET, 'name: main', `name: ${name}`), '/m/f.yaml', 'f.yaml');
    assert.equal(r.accepted.length, 0, name);
    assert.deepEqual(r.problems.map((p) => `${p.line}:${p.column} ${formatPath(p.error.path)}`), ['4:3 metadata.name'], name);
  }
});

// ---------------------------------------------------------------------------------------------
// The store: nothing already accepted is lost
// ---------------------------------------------------------------------------------------------

test('a valid fleet edited into each kind of bad input keeps being served, with a problem naming the file', async (t) => {
  const env = dirs(t);
  const file = write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await start(t, env);
  assert.deepEqual(await fleets(store), ['main@1:17.4.2']);
  const bad: Record<string, string | Uint8Array> = {
    tab: edit(VALID_FLEET, '    - name: tokyo\n', '\t- name: tokyo\n'),
    'unclosed quote in spec': edit(VALID_FLEET, 'timeZone: Asia/Tokyo', 'timeZone: "Asia/Tokyo'),
    'alias bomb': edit(VALID_FLEET, 'spec:\n', `spec:\n${aliasBomb(12, 10, '  ')}`),
    list: '- apiVersion: meridian.dev/v1alpha1\n- kind: ProxyFleet\n',
    scalar: 'ProxyFleet main\n',
    'wrong apiVersion': edit(VALID_FLEET, 'meridian.dev/v1alpha1', 'meridian.dev/v2'),
    'wrong kind': edit(VALID_FLEET, 'kind: ProxyFleet', 'kind: proxyfleet'),
    'huge number': edit(VALID_FLEET, 'latitude: 35.68', 'latitude: 1e999'),
    'unknown metadata field': edit(VALID_FLEET, '  name: main\n', '  name: main\n  bogus: 1\n'),
    binary: Uint8Array.from([0x00, 0xff, 0xfe, 0x01, 0x80, 0x81, 0x0a]),
  };
  for (const [what, content] of Object.entries(bad)) {
    write(env.manifestDir, 'fleet.yaml', content);
    await store.rescan();
    assert.deepEqual(await fleets(store), ['main@1:17.4.2'], `${what}: the last valid fleet is still served`);
    const problems = store.problems();
    assert.ok(problems.length > 0 && problems.every((p) => p.source === file && p.line !== undefined), `${what}: ${JSON.stringify(problemTexts(problems))}`);
    write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
    await store.rescan();
    assert.deepEqual(store.problems(), [], `${what}: fixed`);
  }
  assert.equal((await store.get('ProxyFleet', 'default', 'main'))?.metadata.generation, 1);
});

// The name a document with YAML errors seems to give is garbage ("main\nspec: regions: ..." for an unclosed
// quote; the last of two `name:` keys), so it is never trusted: the file keeps what it defined before.
test('a YAML error in metadata.name does not remove the fleet the document defined', async (t) => {
  const env = dirs(t);
  write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await start(t, env);
  const broken = {
    'unclosed quote': edit(VALID_FLEET, 'name: main\n', 'name: "main\n'),
    'duplicate name key': edit(VALID_FLEET, '  name: main\n', '  name: main\n  name: main-v2\n'),
  };
  const lost: string[] = [];
  for (const [what, text] of Object.entries(broken)) {
    write(env.manifestDir, 'fleet.yaml', text);
    await store.rescan();
    assert.ok(store.problems().length > 0, what);
    if ((await store.get('ProxyFleet', 'default', 'main')) === undefined) lost.push(what);
    write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
    await store.rescan();
  }
  assert.deepEqual(lost, [], 'the fleet was removed while its file held a YAML error');
});

// An unclosed single quote in one document swallows the `---` and every document after it, so where the
// documents of a file with a YAML error begin and end is unknown: the file keeps every object it defined
// (its valid documents change nothing either) until it parses again.
test('a syntax error in one document does not remove the objects of the documents after it', async (t) => {
  const env = dirs(t);
  const file = write(env.manifestDir, 'fleets.yaml', [smallFleet('one'), smallFleet('two'), smallFleet('three')].join('---\n'));
  const { store } = await start(t, env);
  assert.deepEqual(await fleets(store), ['one@1:17.4.2', 'three@1:17.4.2', 'two@1:17.4.2']);
  const two = edit(smallFleet('two'), 'version: "17.4.2"', "version: '17.4.2");
  write(env.manifestDir, 'fleets.yaml', [smallFleet('one', '18.0.0'), two, smallFleet('three')].join('---\n'));
  await store.rescan();
  // Document 2 starts on line 18; its version is its line 16, the quote at column 16.
  assert.deepEqual(problemTexts(store.problems()), [`${file}:33:16: Missing closing 'quote`]);
  assert.deepEqual(await fleets(store), ['one@1:17.4.2', 'three@1:17.4.2', 'two@1:17.4.2']);
  write(env.manifestDir, 'fleets.yaml', [smallFleet('one', '18.0.0'), smallFleet('two')].join('---\n'));
  await store.rescan();
  assert.deepEqual([await fleets(store), store.problems()], [['one@2:18.0.0', 'two@1:17.4.2'], []]);
});

// Of two definitions of one object, the one in force wins, whatever the file names sort as: a new file
// (a copy made to start an edit) never takes over, and the error names the newcomer, not the file that
// was there all along.
test('a new file duplicating an object in force does not replace it; the newcomer is the one refused', async (t) => {
  const env = dirs(t);
  const owner = write(env.manifestDir, 'b-fleet.yaml', smallFleet('dup', '17.0.0'));
  const { store } = await start(t, env);
  assert.deepEqual(await fleets(store), ['dup@1:17.0.0']);
  const newcomer = write(env.manifestDir, 'a-copy.yaml', smallFleet('dup', '99.0.0'));
  await store.rescan();
  assert.deepEqual(await fleets(store), ['dup@1:17.0.0'], 'the object in force was replaced by the duplicate');
  assert.deepEqual(problemTexts(store.problems()), [`${newcomer}:4:3: metadata.name: ProxyFleet/default/dup is already defined at ${owner}:4`]);
});

// While the definition in force is invalid, its last valid version stays in force: a duplicate in another
// file is still refused (naming the definition in force), and takes over only once that one is removed.
test('an invalid edit of an object in force does not hand it to a duplicate in another file', async (t) => {
  const env = dirs(t);
  const a = write(env.manifestDir, 'a.yaml', smallFleet('dup', '17.0.0'));
  const b = write(env.manifestDir, 'b.yaml', smallFleet('dup', '99.0.0'));
  const { store } = await start(t, env);
  assert.deepEqual(await fleets(store), ['dup@1:17.0.0']);
  write(env.manifestDir, 'a.yaml', edit(smallFleet('dup', '17.0.0'), 'region: paris', 'region: mars'));
  await store.rescan();
  assert.deepEqual(await fleets(store), ['dup@1:17.0.0']);
  assert.deepEqual(problemTexts(store.problems()), [
    `${a}:13:7: spec.proxies[0].region: region "mars" is not defined in spec.regions`,
    `${b}:4:3: metadata.name: ProxyFleet/default/dup is already defined at ${a}:4 (its last valid version stays in force until that definition is fixed or removed)`,
  ]);
  unlinkSync(a);
  await store.rescan();
  assert.deepEqual([await fleets(store), store.problems()], [['dup@2:99.0.0'], []]);
});

// A manifest truncated to 0 bytes is an interrupted save or `cmd > fleet.yaml` gone wrong far more often
// than a decision: it keeps the objects it defined and says how to remove them (delete the file, or
// comment everything out as the next test does).
test('a manifest truncated to 0 bytes keeps the fleet it defined and says so', async (t) => {
  const env = dirs(t);
  const file = write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await start(t, env);
  write(env.manifestDir, 'fleet.yaml', '');
  await store.rescan();
  assert.deepEqual(await fleets(store), ['main@1:17.4.2']);
  assert.deepEqual(problemTexts(store.problems()), [`${file}: empty file (0 bytes): the object it defined is kept; delete the file to remove it`]);
  unlinkSync(file);
  await store.rescan();
  assert.deepEqual([await fleets(store), store.problems()], [[], []]);
});

test('a file of only comments (everything commented out) removes its objects, as deleting them does', async (t) => {
  const env = dirs(t);
  write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  write(env.manifestDir, 'other.yaml', smallFleet('other'));
  const { store } = await start(t, env);
  write(env.manifestDir, 'fleet.yaml', VALID_FLEET.replace(/^/gm, '# '));
  await store.rescan();
  assert.deepEqual(await fleets(store), ['other@1:17.4.2']);
  assert.deepEqual(store.problems(), []);
});

test('a symlinked manifest whose target goes missing keeps its fleet and names the link', async (t) => {
  const env = dirs(t);
  const target = write(env.root, 'real-fleet.yaml', VALID_FLEET);
  const link = join(env.manifestDir, 'fleet.yaml');
  symlinkSync(target, link);
  const { store } = await start(t, env);
  assert.deepEqual(await fleets(store), ['main@1:17.4.2']);
  unlinkSync(target);
  await store.rescan();
  assert.deepEqual(await fleets(store), ['main@1:17.4.2']);
  assert.deepEqual(store.problems().map((p) => [p.source, /cannot read: ENOENT/.test(p.error.message)]), [[link, true]]);
});

// A symlinked directory (a git-sync style checkout) whose target goes missing is unreadable, not empty:
// every dangling link is reported, whatever its name, and the objects defined under it are kept.
test('a symlinked directory whose target goes missing keeps its objects and names the link', async (t) => {
  const env = dirs(t);
  const target = join(env.root, 'checkout');
  mkdirSync(target);
  write(target, 'fleet.yaml', smallFleet('linked'));
  const link = join(env.manifestDir, 'prod');
  symlinkSync(target, link);
  const { store } = await start(t, env);
  assert.deepEqual(await fleets(store), ['linked@1:17.4.2']);
  rmSync(target, { recursive: true });
  await store.rescan();
  assert.deepEqual(store.problems().map((p) => [p.source, /^cannot read: ENOENT/.test(p.error.message)]), [[link, true]]);
  assert.deepEqual(await fleets(store), ['linked@1:17.4.2']);
});

test('a file removed while watched removes its objects and tells the watchers; other files are untouched', async (t) => {
  const env = dirs(t);
  const file = write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  write(env.manifestDir, 'other.yaml', smallFleet('other'));
  const { store } = await start(t, env, { watchFiles: true, debounceMs: 20 });
  const heard: ResourceKey[] = [];
  store.watch((k) => heard.push(k));
  unlinkSync(file);
  const recordPath = join(env.stateDir, 'ProxyFleet', 'default', 'main.json');
  const inForce = (): boolean => (JSON.parse(readFileSync(recordPath, 'utf8')) as { inForce: boolean }).inForce;
  // The scan, the watchers and the record's write each land in their own turn: wait for all three.
  const settled = async (): Promise<boolean> => (await store.get('ProxyFleet', 'default', 'main')) === undefined && heard.some((k) => k.name === 'main') && !inForce();
  for (let i = 0; i < 250 && !(await settled()); i++) await sleep(20);
  assert.equal(await store.get('ProxyFleet', 'default', 'main'), undefined);
  assert.deepEqual(await fleets(store), ['other@1:17.4.2']);
  assert.ok(heard.some((k) => k.name === 'main' && k.kind === 'ProxyFleet'));
  assert.deepEqual(store.problems(), []);
  // Its state record stays on disk, marked out of force, so the object can come back with its identity.
  assert.equal(inForce(), false);
});

test('a file edited into invalid YAML while watched keeps the fleet and reports the problem', async (t) => {
  const env = dirs(t);
  const file = write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  const { store } = await start(t, env, { watchFiles: true, debounceMs: 20 });
  write(env.manifestDir, 'fleet.yaml', edit(VALID_FLEET, 'latitude: 35.68', 'latitude: [35.68'));
  for (let i = 0; i < 250 && store.problems().length === 0; i++) await sleep(20);
  assert.ok(store.problems().length > 0);
  assert.ok(store.problems().every((p) => p.source === file && p.line !== undefined));
  assert.deepEqual(await fleets(store), ['main@1:17.4.2']);
});

// metadata.name may be up to 253 characters, but a state file is written through a temp file
// `.<name>.json.<uuid>.tmp` (name + 47 bytes) and a file name holds 255 bytes. Names up to 208 characters
// keep their plain `<name>.json` (so every state file written before still works); a longer one is stored
// as a prefix, `~` (never in a name) and the hash of the name, and found again through that hash.
test('a long but valid metadata.name has its status saved and read back after a restart', async (t) => {
  const env = dirs(t);
  // Dot-separated labels of at most 63 characters, as DNS wants: 222 and 208 characters.
  const long = [63, 63, 63, 30].map((n) => 'a'.repeat(n)).join('.');
  const plain = [63, 63, 63, 16].map((n) => 'c'.repeat(n)).join('.');
  write(env.manifestDir, 'fleet.yaml', [smallFleet(long), smallFleet(plain)].join('---\n'));
  const first = await start(t, env);
  assert.deepEqual(first.store.problems(), []);
  const status: ProxyFleetStatus = { observedGeneration: 1, phase: 'Healthy', proxies: 1, readyProxies: 1 };
  await first.store.updateStatus('ProxyFleet', 'default', long, status);
  await first.store.updateStatus('ProxyFleet', 'default', plain, { phase: 'Degraded' });
  await first.store.close();

  const names = readdirSync(join(env.stateDir, 'ProxyFleet', 'default')).sort();
  assert.ok(names.every((n) => n.length <= 213), names.join(', '));
  assert.equal(names.find((n) => n.includes('~'))?.slice(0, 129), `${long.slice(0, 128)}~`);
  assert.ok(names.includes(`${plain}.json`));

  const second = await start(t, env);
  assert.deepEqual(second.store.problems(), []);
  assert.deepEqual((await second.store.get('ProxyFleet', 'default', long))?.status, status);
  assert.equal((await second.store.get('ProxyFleet', 'default', plain))?.status?.phase, 'Degraded');
});

// ---------------------------------------------------------------------------------------------
// The state directory: a corrupt file is named, set aside, never silently dropped
// ---------------------------------------------------------------------------------------------

function copyExampleRollout(env: Env): void {
  copyFileSync(join(REPO, 'examples/fleet/fleet.yaml'), join(env.manifestDir, 'fleet.yaml'));
  copyFileSync(join(REPO, 'examples/rollouts/follow-the-sun.yaml'), join(env.manifestDir, 'rollout.yaml'));
}

test("a rollout's state file truncated to 0 bytes is reported naming it, kept aside, and the rollout still served", async (t) => {
  const env = dirs(t);
  copyExampleRollout(env);
  const first = await start(t, env);
  const progress: ProxyRolloutStatus = { observedGeneration: 1, phase: 'Progressing', currentWave: 1, sessionsCut: 3 };
  await first.store.updateStatus('ProxyRollout', 'default', 'follow-the-sun', progress);
  await first.store.close();

  const recordDir = join(env.stateDir, 'ProxyRollout', 'default');
  const path = join(recordDir, 'follow-the-sun.json');
  const before = readFileSync(path, 'utf8');
  assert.match(before, /"phase": "Progressing"/);
  writeFileSync(path, '');

  const second = await start(t, env);
  const rollout = await second.store.get('ProxyRollout', 'default', 'follow-the-sun');
  assert.ok(rollout, 'the rollout is still served from its manifest');
  assert.equal(rollout.status, undefined);
  const problems = second.store.problems();
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.source, path);
  assert.match(problems[0]?.error.message ?? '', /^corrupt state file: not valid JSON .*moved to .*follow-the-sun\.json\.corrupt-\d+, status starts empty$/);
  assert.ok(second.logs.some((l) => l['msg'] === 'Rejected state file' && l['file'] === path && l['level'] === 40));
  const aside = readdirSync(recordDir).filter((n) => n.startsWith('follow-the-sun.json.corrupt-'));
  assert.equal(aside.length, 1);
  // The fleet's record was not touched.
  assert.ok(await second.store.get('ProxyFleet', 'default', 'demo'));
});

test('a state file of invalid JSON or the wrong shape is reported per file; the other records keep their status', async (t) => {
  const env = dirs(t);
  write(env.manifestDir, 'fleet.yaml', VALID_FLEET);
  write(env.manifestDir, 'other.yaml', smallFleet('other'));
  const first = await start(t, env);
  await first.store.updateStatus('ProxyFleet', 'default', 'main', { phase: 'Healthy' });
  await first.store.updateStatus('ProxyFleet', 'default', 'other', { phase: 'Degraded' });
  await first.store.close();
  const mainPath = join(env.stateDir, 'ProxyFleet', 'default', 'main.json');
  writeFileSync(mainPath, '{"uid": "x", "generation": 1,\n  "status": {"phase": "Healthy"');

  const second = await start(t, env);
  assert.equal((await second.store.get('ProxyFleet', 'default', 'other'))?.status?.phase, 'Degraded');
  assert.equal((await second.store.get('ProxyFleet', 'default', 'main'))?.status, undefined);
  assert.ok(await second.store.get('ProxyFleet', 'default', 'main'));
  assert.deepEqual(second.store.problems().map((p) => p.source), [mainPath]);
  assert.match(second.store.problems()[0]?.error.message ?? '', /not valid JSON \(.*\)/);
  await second.store.close();

  writeFileSync(mainPath, JSON.stringify([1, 2, 3]));
  const third = await start(t, env);
  assert.deepEqual(third.store.problems().map((p) => [p.source, p.error.message.startsWith('corrupt state file: must be a JSON object')]), [[mainPath, true]]);
  assert.ok(await third.store.get(MAIN.kind, MAIN.namespace, MAIN.name));
});

// ---------------------------------------------------------------------------------------------
// The CLI prints the problems, not stack traces
// ---------------------------------------------------------------------------------------------

test('meridian validate prints file:line: field: problem for every bad file and exits 1, no stack trace', async (t) => {
  const dir = tmp(t);
  const fleet = write(dir, 'fleet.yaml', edit(VALID_FLEET, 'region: london', 'region: mars'));
  const tab = write(dir, 'tab.yaml', edit(smallFleet('tabbed'), '  name: tabbed\n', '\tname: tabbed\n'));
  const bomb = write(dir, 'bomb.yaml', aliasBomb(12, 10));
  const bin = write(dir, 'blob.yaml', Uint8Array.from([0x00, 0xff, 0xfe, 0x01]));
  const link = join(dir, 'gone.yaml');
  symlinkSync(join(dir, 'nowhere.yaml'), link);
  const io = capture();
  assert.equal(await runCli(['validate', dir], io), 1);
  assert.doesNotMatch(io.stderr, /\n\s+at /, 'no stack trace');
  assert.match(io.stderr, new RegExp(`${fleet}:22:7: spec\\.proxies\\[1\\]\\.region: region "mars" is not defined`));
  assert.match(io.stderr, new RegExp(`${tab}:4:1: Tabs are not allowed`));
  assert.match(io.stderr, new RegExp(`${bomb}:1:1: .*(alias|exhaustion)`, 'i'));
  assert.match(io.stderr, new RegExp(`${bin}:1:1: `));
  assert.match(io.stderr, new RegExp(`${link}: cannot read: ENOENT`));
  assert.match(io.stderr, /5 problems in /);

  const missing = capture();
  assert.equal(await runCli(['validate', join(dir, 'no-such-dir')], missing), 1);
  assert.match(missing.stderr, /no-such-dir: cannot read: ENOENT/);
});

test('the real binary prints problems to stderr without a stack trace (node bin/meridian.js validate)', (t) => {
  const dir = tmp(t);
  const file = write(dir, 'fleet.yaml', edit(VALID_FLEET, 'name: main\n', 'name: main\n  name: again\n'));
  // A cold start transpiles every source file through tsx; on a loaded machine that alone took over 10 s.
  const r = spawnSync(process.execPath, [join(REPO, 'bin/meridian.js'), 'validate', dir], { encoding: 'utf8', cwd: REPO, timeout: 120_000 });
  assert.equal(r.error, undefined, `node bin/meridian.js validate did not finish: ${String(r.error)}`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${file}:5:3: Map keys must be unique`));
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/);
  assert.equal(r.stdout, '');
});

test('offline commands that need a fleet name the bad files and say none is valid', async (t) => {
  const dir = tmp(t);
  const file = write(dir, 'fleet.yaml', edit(VALID_FLEET, 'latitude: 35.68', 'latitude: "north"'));
  const io = capture();
  assert.equal(await runCli(['oidc', 'redirect-urls', '--manifests', dir], io), 1);
  assert.match(io.stderr, new RegExp(`${file}:8:7: spec\\.regions\\[0\\]\\.latitude: must be number`));
  assert.match(io.stderr, /no valid ProxyFleet in /);
  assert.doesNotMatch(io.stderr, /\n\s+at /);
});

// A file with a YAML error in another document is not edited: the store does not read that file until it
// is fixed, and a swallowed `---` can move the documents after it. The offline edit is refused naming the
// file and the line of the broken document, and the file is left byte for byte as it was.
test('an offline rollout edit in a file with another broken document names the file and the problem', async (t) => {
  const dir = tmp(t);
  const rollout = readFileSync(join(REPO, 'examples/rollouts/follow-the-sun.yaml'), 'utf8');
  const text = `${rollout}---\napiVersion: meridian.dev/v1alpha1\nkind: ProxyFleet\nmetadata:\n  name: broken\nspec:\n\tregions: []\n`;
  const file = write(dir, 'rollout.yaml', text);
  const tabLine = text.split('\n').indexOf('\tregions: []') + 1;
  const io = capture();
  assert.equal(await runCli(['rollout', 'start', 'follow-the-sun', '--manifests', dir], io), 1);
  assert.doesNotMatch(io.stderr, /\n\s+at /);
  assert.ok(io.stderr.includes(`${file}:${tabLine}:1: Tabs are not allowed as indentation`), `stderr: ${io.stderr}`);
  assert.equal(readFileSync(file, 'utf8'), text);
  // The same refusal where the running controller edits a file (FileStore.patchSpec).
  assert.deepEqual(await patchManifestFile(file, 0, { paused: true }), {
    ok: false,
    error: `${file}: document 2 has a YAML error at line ${tabLine}, column 1 (Tabs are not allowed as indentation): fix it first, a file with YAML errors is not edited`,
  });
  assert.equal(readFileSync(file, 'utf8'), text);
});
