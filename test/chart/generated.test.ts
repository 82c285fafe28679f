// The files generated from the chart are current: values.schema.json from scripts/chart-values-schema.ts, and
// manifests/meridian.yaml from the chart with its default values. Regenerate: node --import tsx scripts/chart-generate.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { MANIFEST_FILE, renderPlainManifest, VALUES_SCHEMA_FILE } from '../../scripts/chart-generate.js';
import { readChartValues } from '../../scripts/chart-render.js';
import { renderValuesSchema } from '../../scripts/chart-values-schema.js';
import { valuesProblems } from './chart-values.js';
import { validateObject } from './k8s-models.js';

const REGENERATE = 'run `node --import tsx scripts/chart-generate.ts`';

test('charts/meridian/values.schema.json is the one generated from scripts/chart-values-schema.ts', () => {
  assert.equal(readFileSync(VALUES_SCHEMA_FILE, 'utf8'), renderValuesSchema(), `values.schema.json is stale: ${REGENERATE}`);
});

test('values.yaml passes values.schema.json and sets every value the schema names', () => {
  assert.equal(valuesProblems({}), undefined);
  const schema = JSON.parse(readFileSync(VALUES_SCHEMA_FILE, 'utf8')) as { properties: Record<string, unknown> };
  assert.deepEqual(Object.keys(readChartValues()).sort(), Object.keys(schema.properties).sort());
});

test('manifests/meridian.yaml is the chart rendered with its default values, and every object in it is valid', () => {
  const text = readFileSync(MANIFEST_FILE, 'utf8');
  assert.equal(text, renderPlainManifest(), `manifests/meridian.yaml is stale: ${REGENERATE}`);
  const objects = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown> | null).filter((o): o is Record<string, unknown> => o !== null);
  assert.equal(objects[0]?.['kind'], 'Namespace', 'the namespace first, so that one `kubectl apply` makes it before what is in it');
  for (const o of objects) assert.equal(validateObject(o), undefined, `${String(o['kind'])}`);
  const namespaces = new Set(objects.map((o) => (o['metadata'] as { namespace?: string }).namespace).filter(Boolean));
  assert.deepEqual([...namespaces], ['meridian']);
});
