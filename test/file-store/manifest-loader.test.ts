import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatProblem } from '../../src/adapters/file-store/format-problem.js';
import { loadManifestDir, type ManifestDirLoad } from '../../src/adapters/file-store/manifest-loader.js';
import { parseManifestText } from '../../src/adapters/file-store/manifest-parse.js';
import { formatPath } from '../../src/model/field-error.js';
import { edit, put, smallFleet, tempDir, VALID_FLEET } from './helpers.js';

/** The problems as `line:column field: message`, the shape an operator reads. */
function where(load: ManifestDirLoad): string[] {
  return load.problems.map((p) => `${p.line}:${p.column} ${formatPath(p.error.path)}: ${p.error.message}`);
}

async function loadOne(t: Parameters<typeof tempDir>[0], text: string): Promise<{ load: ManifestDirLoad; file: string }> {
  const dir = await tempDir(t);
  const file = await put(dir, 'fleet.yaml', text);
  return { load: await loadManifestDir(dir), file };
}

test('a valid fleet loads with no problems, its key and the position of its name', async (t) => {
  const { load, file } = await loadOne(t, VALID_FLEET);
  assert.deepEqual(load.problems, []);
  assert.equal(load.resources.length, 1);
  const [doc] = load.resources;
  assert.deepEqual(doc?.key, { kind: 'ProxyFleet', namespace: 'default', name: 'main' });
  assert.equal(doc?.source, file);
  assert.equal(doc?.file, 'fleet.yaml');
  assert.deepEqual([doc?.line, doc?.column], [4, 3]);
  assert.equal(doc?.resource.kind === 'ProxyFleet' && doc.resource.spec.proxies[1]?.region, 'london');
});

test('malformed YAML is reported at its line and column, and the document still names its object', async (t) => {
  const { load, file } = await loadOne(t, edit(VALID_FLEET, 'timeZone: Asia/Tokyo\n', 'timeZone: Asia/Tokyo: x\n'));
  assert.equal(load.problems.length, 1);
  const [p] = load.problems;
  assert.equal(p?.source, file);
  assert.deepEqual([p?.line, p?.column], [10, 17]);
  assert.match(p?.error.message ?? '', /Nested mappings are not allowed/);
  assert.equal(load.resources.length, 0);
  assert.deepEqual(load.rejected[0]?.key, { kind: 'ProxyFleet', namespace: 'default', name: 'main' });
});

test('an unknown field points at its own key', async (t) => {
  const text = edit(VALID_FLEET, '      version: 17.4.2\n    - name: london-1', '      version: 17.4.2\n      colour: blue\n    - name: london-1');
  const { load } = await loadOne(t, text);
  assert.deepEqual(where(load), ['21:7 spec.proxies[0].colour: unknown field "colour"']);
});

test('a value of the wrong type points at its field', async (t) => {
  const { load } = await loadOne(t, edit(VALID_FLEET, 'latitude: 51.51', 'latitude: north'));
  assert.deepEqual(where(load), ['12:7 spec.regions[1].latitude: must be number']);
});

test('a latitude out of range points at its field', async (t) => {
  const { load } = await loadOne(t, edit(VALID_FLEET, 'latitude: 35.68', 'latitude: 91'));
  assert.deepEqual(where(load), ['8:7 spec.regions[0].latitude: must be <= 90']);
});

test('two proxies with one name: the second is reported', async (t) => {
  const { load } = await loadOne(t, edit(VALID_FLEET, '- name: london-1', '- name: tokyo-1'));
  assert.deepEqual(where(load), ['21:7 spec.proxies[1].name: duplicate proxy name "tokyo-1" (first at index 0)']);
});

test('a proxy in a region that is not defined is reported in the operator format', async (t) => {
  const { load, file } = await loadOne(t, edit(VALID_FLEET, 'region: london', 'region: mars'));
  assert.equal(load.problems.length, 1);
  const [p] = load.problems;
  assert.ok(p);
  assert.equal(formatProblem(p), `${file}:22:7: spec.proxies[1].region: region "mars" is not defined in spec.regions`);
});

test('an unknown time zone points at its field', async (t) => {
  const { load } = await loadOne(t, edit(VALID_FLEET, 'Asia/Tokyo', 'Asia/Tokio'));
  assert.deepEqual(where(load), ['10:7 spec.regions[0].timeZone: unknown IANA time zone "Asia/Tokio"']);
});

test('a missing required field points at the mapping that lacks it', async (t) => {
  const text = edit(VALID_FLEET, '      diagnosticUrl: http://10.0.1.1:3000\n      version: 17.4.2\n', '      diagnosticUrl: http://10.0.1.1:3000\n');
  const { load } = await loadOne(t, text);
  assert.deepEqual(where(load), ['21:7 spec.proxies[1].version: missing required field "version"']);
});

test('the same object in two files: the second is reported, naming the first file and line', async (t) => {
  const dir = await tempDir(t);
  const first = await put(dir, 'a.yaml', VALID_FLEET);
  const second = await put(dir, 'b.yaml', `# the same fleet again\n${VALID_FLEET}`);
  const load = await loadManifestDir(dir);
  assert.equal(load.resources.length, 1);
  assert.equal(load.resources[0]?.source, first);
  assert.equal(load.problems.length, 1);
  const [p] = load.problems;
  assert.ok(p);
  assert.equal(formatProblem(p), `${second}:5:3: metadata.name: ProxyFleet/default/main is already defined at ${first}:4`);
});

test('files are found recursively in sorted order; dotfiles, dot-directories and other extensions are skipped', async (t) => {
  const dir = await tempDir(t);
  await put(dir, 'z.yaml', smallFleet('zeta'));
  await put(dir, 'a/nested.yml', smallFleet('alpha'));
  await put(dir, 'm.yaml', smallFleet('mu'));
  await put(dir, '.hidden.yaml', 'not: [valid');
  await put(dir, '.git/config.yaml', 'not: [valid');
  await put(dir, 'notes.txt', 'not: [valid');
  const load = await loadManifestDir(dir);
  assert.deepEqual(load.problems, []);
  assert.deepEqual(
    load.resources.map((r) => `${r.file} ${r.key.name}`),
    [`${join('a', 'nested.yml')} alpha`, 'm.yaml mu', 'z.yaml zeta'],
  );
});

test('multi-document files: each document is checked on its own, with lines counted across the file', async (t) => {
  const text = [
    '# Deployments live beside the fleets; they are not Meridian objects.',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: { name: web }',
    '---',
    '# comments only',
    '---',
    smallFleet('good'),
    '---',
    edit(smallFleet('bad'), 'latitude: 48.86', 'latitude: -91'),
    '---',
  ].join('\n');
  // Lines: Deployment 1-4, `---` 5, comment 6, `---` 7, good 8-23 (+ a blank 24), `---` 25, bad 26-41.
  const { load } = await loadOne(t, text);
  assert.deepEqual(load.resources.map((r) => [r.key.name, r.document, r.line]), [['good', 2, 11]]);
  assert.deepEqual(load.ignored.map((d) => [d.kind, d.document, d.line]), [['Deployment', 0, 2]]);
  assert.deepEqual(load.rejected.map((d) => [d.key?.name, d.document]), [['bad', 3]]);
  assert.deepEqual(where(load), ['33:7 spec.regions[0].latitude: must be >= -90']);
});

test('a document that is not a mapping, or has an unknown kind, is a problem on its first line', async (t) => {
  const text = `- just\n- a list\n---\napiVersion: meridian.dev/v1alpha1\nkind: ProxyFleets\nmetadata: { name: x }\n`;
  const { load } = await loadOne(t, text);
  assert.deepEqual(where(load), ['1:1 (root): a manifest must be a mapping', '5:1 kind: unknown kind "ProxyFleets" (known: ProxyFleet, ProxyRollout, ProxyCanary, ProxyPeering)']);
  assert.deepEqual(load.rejected.map((d) => [d.document, d.key]), [[0, undefined], [1, undefined]]);
});

test('a status in a manifest (kubectl get -o yaml) is accepted and dropped', () => {
  const parsed = parseManifestText(`${VALID_FLEET}status:\n  phase: Healthy\n`, 'fleet.yaml');
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.accepted.length, 1);
  assert.equal('status' in (parsed.accepted[0]?.resource ?? {}), false);
});

test('a missing directory is a problem naming it, not an exception', async (t) => {
  const dir = join(await tempDir(t), 'absent');
  const load = await loadManifestDir(dir);
  assert.equal(load.problems.length, 1);
  assert.equal(load.problems[0]?.source, dir);
  assert.match(load.problems[0]?.error.message ?? '', /^cannot read: ENOENT/);
  assert.deepEqual(load.unreadable, ['']);
});

test('an unreadable file (a dangling link) is a problem naming it; the other files still load', async (t) => {
  const dir = await tempDir(t);
  await symlink(join(dir, 'moved-away.yaml'), join(dir, 'linked.yaml'));
  await put(dir, 'open.yaml', smallFleet('open'));
  const load = await loadManifestDir(dir);
  assert.deepEqual(load.resources.map((r) => r.key.name), ['open']);
  assert.equal(load.problems.length, 1);
  assert.equal(load.problems[0]?.source, join(dir, 'linked.yaml'));
  assert.match(load.problems[0]?.error.message ?? '', /^cannot read: ENOENT/);
  assert.deepEqual(load.unreadable, ['linked.yaml']);
});

test('formatProblem prints file:line:column, then the field when there is one', () => {
  assert.equal(
    formatProblem({ source: 'examples/fleet.yaml', line: 14, column: 7, error: { path: ['spec', 'proxies', 2, 'region'], message: 'region "mars" is not defined in spec.regions' } }),
    'examples/fleet.yaml:14:7: spec.proxies[2].region: region "mars" is not defined in spec.regions',
  );
  assert.equal(formatProblem({ source: 'a.yaml', line: 3, column: 1, error: { path: [], message: 'Map keys must be unique' } }), 'a.yaml:3:1: Map keys must be unique');
  assert.equal(formatProblem({ source: 'gone', error: { path: [], message: 'cannot read: EACCES' } }), 'gone: cannot read: EACCES');
});
