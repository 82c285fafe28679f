import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncOidcConnectorFile } from '../../src/adapters/teleport/oidc-connector-file.js';
import { API_VERSION } from '../../src/model/resource.js';
import { validateManifest } from '../../src/model/validate.js';
import { oidcRedirectUrls } from '../../src/oidc/core/redirect-urls.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';

test('one callback URL per proxy public address, in fleet order, without duplicates', () => {
  const spec = fleetSpec();
  const extra = { region: 'tokyo', diagnosticUrl: 'http://127.0.0.1:9', version: '17.4.2' };
  const urls = oidcRedirectUrls({
    ...spec,
    proxies: [...spec.proxies, { ...extra, name: 'alias', publicUrl: 'https://tokyo-1.example.com/' }, { ...extra, name: 'port', publicUrl: 'https://x.example.com:3080/ignored/path' }],
  });
  assert.deepEqual(urls, [
    'https://tokyo-1.example.com/v1/webapi/oidc/callback',
    'https://tokyo-2.example.com/v1/webapi/oidc/callback',
    'https://london-1.example.com/v1/webapi/oidc/callback',
    'https://x.example.com:3080/v1/webapi/oidc/callback',
  ]);
});

const CONNECTOR = `# Okta connector, managed in Git; Meridian keeps redirect_url in sync.
kind: oidc
version: v3
metadata:
  name: okta
spec:
  client_id: meridian
  issuer_url: https://example.okta.com
  # one entry per proxy
  redirect_url: https://old.example.com/v1/webapi/oidc/callback
  claims_to_roles:
    - claim: groups
      value: admins
      roles: [access]
`;

test('the connector file gets the fleet list, keeps comments and other fields, and is left alone when current', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-oidc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'okta.yaml');
  await writeFile(file, CONNECTOR);
  const urls = oidcRedirectUrls(fleetSpec());
  assert.deepEqual(await syncOidcConnectorFile(file, urls), { ok: true, value: 'updated' });
  const text = await readFile(file, 'utf8');
  assert.match(text, /^# Okta connector/);
  assert.match(text, /# one entry per proxy/);
  assert.match(text, /issuer_url: https:\/\/example.okta.com/);
  assert.match(text, /roles: \[ access \]|roles:\s*\[\s*access\s*\]/);
  for (const u of urls) assert.ok(text.includes(`- ${u}`), u);
  assert.doesNotMatch(text, /old\.example\.com/);
  const before = (await stat(file)).mtimeMs;
  assert.deepEqual(await syncOidcConnectorFile(file, urls), { ok: true, value: 'unchanged' });
  assert.equal((await stat(file)).mtimeMs, before);
});

test('a file that is not an OIDC connector is refused, naming the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-oidc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'role.yaml');
  await writeFile(file, 'kind: role\nversion: v7\nmetadata: {name: x}\nspec: {}\n');
  const r = await syncOidcConnectorFile(file, ['https://a/v1/webapi/oidc/callback']);
  assert.deepEqual(r, { ok: false, error: `${file}: kind is "role", expected "oidc" (a Teleport OIDC connector)` });
  await writeFile(file, 'kind: oidc\nspec: [unclosed\n');
  const bad = await syncOidcConnectorFile(file, []);
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /not valid YAML/);
  assert.match(((await syncOidcConnectorFile(join(dir, 'missing.yaml'), [])) as { error: string }).error, /cannot read the OIDC connector/);
});

test('spec.oidcConnector names a TeleportOIDCConnector by its Kubernetes name, and nothing else', () => {
  const doc = (oidcConnector: unknown) => ({ apiVersion: API_VERSION, kind: 'ProxyFleet', metadata: { name: 'edge' }, spec: { ...fleetSpec(), oidcConnector } });
  assert.equal(validateManifest(doc({ name: 'okta.main' })).ok, true);
  for (const bad of [{ name: 'Okta' }, { name: 'okta', namespace: 'teleport' }, {}]) assert.equal(validateManifest(doc(bad)).ok, false, JSON.stringify(bad));
});
