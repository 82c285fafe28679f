import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { crdFileName, crdFor, renderCrdYaml, toStructural } from '../../src/model/crd.js';
import { KINDS } from '../../src/model/kinds.js';

function walk(node: unknown, visit: (o: Record<string, unknown>, path: string) => void, path = ''): void {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, visit, `${path}[${i}]`));
  else if (node && typeof node === 'object') {
    visit(node as Record<string, unknown>, path);
    for (const [k, v] of Object.entries(node)) walk(v, visit, `${path}.${k}`);
  }
}

test('CRD schemas are structural: no anyOf of consts, no const, no uniqueItems, no closed objects', () => {
  for (const kind of KINDS) {
    walk(crdFor(kind), (o, path) => {
      for (const banned of ['const', 'uniqueItems', 'patternProperties', 'anyOf'])
        assert.ok(!(banned in o), `${kind}${path} has ${banned}`);
      assert.notEqual(o['additionalProperties'], false, `${kind}${path} has additionalProperties: false`);
    });
  }
});

test('literal unions become enums and records become additionalProperties', () => {
  const s = toStructural({ type: 'object', properties: { m: { anyOf: [{ const: 'a', type: 'string' }, { const: 'b', type: 'string' }] }, l: { type: 'object', patternProperties: { '^(.*)$': { type: 'string' } } } } });
  assert.deepEqual(s, { type: 'object', properties: { m: { type: 'string', enum: ['a', 'b'] }, l: { type: 'object', additionalProperties: { type: 'string' } } } });
});

test('the committed CRDs in manifests/ and charts/ match the schemas (run `npm run meridian -- crds --out DIR` to regenerate)', async () => {
  for (const kind of KINDS) {
    const file = crdFileName(kind);
    const expected = renderCrdYaml(kind);
    assert.equal(await readFile(`manifests/crds/${file}`, 'utf8'), expected, `manifests/crds/${file} is stale`);
    assert.equal(await readFile(`charts/meridian/crds/${file}`, 'utf8'), expected, `charts/meridian/crds/${file} is stale`);
  }
});
