import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApiServer, type ApiServer } from './api-server.js';
import { clientsFor, GROUP, NS, rejection, rollout, VERSION, type Seen } from './client.js';

const plural = 'proxyrollouts';

describe('test API server: CRD schema validation', () => {
  let server: ApiServer;
  let api: ReturnType<typeof clientsFor>['custom'];
  before(async () => {
    server = await startApiServer();
    api = clientsFor(server).custom;
  });
  after(() => server.close());

  const create = (name: string, spec: Record<string, unknown>) => api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: rollout(name, spec) });

  it('answers 422 Invalid with one cause per field error, as the API server words them', async () => {
    const status = await rejection(
      create('bad-a', {
        version: 'latest',
        fleet: '',
        maxUnavailable: true,
        notice: { severity: 'urgent' },
        selector: { regions: ['eu-west', 'eu-west'] },
        maintenanceWindows: { 'eu-west': [{ days: ['Mon'], start: '25:00' }] },
      }),
    );
    assert.deepEqual([status.kind, status.code, status.reason], ['Status', 422, 'Invalid']);
    assert.deepEqual(status.details?.name, 'bad-a');
    assert.deepEqual(status.details?.kind, 'ProxyRollout');
    const byField = new Map((status.details?.causes ?? []).map((c) => [c.field, c]));
    assert.equal(byField.get('spec.version')?.reason, 'FieldValueInvalid');
    assert.match(byField.get('spec.version')?.message ?? '', /^Invalid value: "latest": spec\.version in body should match '/);
    assert.equal(byField.get('spec.fleet')?.message, 'Invalid value: "": spec.fleet in body should be at least 1 chars long');
    assert.equal(byField.get('spec.maxUnavailable')?.reason, 'FieldValueTypeInvalid');
    assert.equal(byField.get('spec.notice.severity')?.message, 'Unsupported value: "urgent": supported values: "low", "medium", "high"');
    assert.equal(byField.get('spec.selector.regions[1]')?.message, 'Duplicate value: "eu-west"');
    assert.equal(byField.get('spec.maintenanceWindows.eu-west[0].duration')?.message, 'Required value');
    assert.match(byField.get('spec.maintenanceWindows.eu-west[0].start')?.message ?? '', /should match/);
    assert.match(status.message ?? '', /^ProxyRollout\.meridian\.dev "bad-a" is invalid: \[/);
    assert.equal(server.get(plural, NS, 'bad-a'), undefined);
  });

  it('requires spec and its required fields', async () => {
    const status = await rejection(create('bad-b', {}));
    assert.deepEqual(
      status.details?.causes?.map((c) => [c.field, c.message]),
      [['spec.version', 'Required value']],
    );
  });

  it('prunes fields the schema does not know (silently, as the API server), but keeps status fields (preserve-unknown-fields)', async () => {
    const made = (await create('prune-a', { version: '17.4.8', bogus: 1, selector: { regions: ['eu'], extra: true } })) as Seen;
    assert.deepEqual(made.spec, { version: '17.4.8', selector: { regions: ['eu'] } });
    const withStatus = (await api.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural,
      name: 'prune-a',
      body: { ...made, status: { phase: 'Running', anything: { nested: [1] } }, unknownTop: 1 },
    })) as Seen & { unknownTop?: number };
    assert.deepEqual(withStatus.status, { phase: 'Running', anything: { nested: [1] } });
    assert.equal(withStatus.unknownTop, undefined);
  });

  it('validates updates and patches too; the stored object is unchanged', async () => {
    const made = (await create('upd-a', { version: '17.4.8' })) as Seen;
    const status = await rejection(api.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, name: 'upd-a', body: { ...made, spec: { version: 'x' } } }));
    assert.equal(status.code, 422);
    const patched = await rejection(api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, name: 'upd-a', body: [{ op: 'replace', path: '/spec/version', value: 'y' }] }));
    assert.equal(patched.code, 422);
    assert.deepEqual(server.get(plural, NS, 'upd-a')?.spec, { version: '17.4.8' });
  });

  it('checks metadata.name and the body kind', async () => {
    const noName = await rejection(api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: { ...rollout('x'), metadata: {} } }));
    assert.deepEqual([noName.code, noName.details?.causes?.[0]?.field], [422, 'metadata.name']);
    const generated = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: { ...rollout('x'), metadata: { generateName: 'gen-' } } })) as Seen;
    assert.match(generated.metadata.name, /^gen-[a-z0-9]{5}$/);
    const noKind = await rejection(api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body: { metadata: { name: 'k' }, spec: { version: '1.0.0' } } }));
    assert.equal(noKind.code, 400);
  });
});
