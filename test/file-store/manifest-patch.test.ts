import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { patchManifestText } from '../../src/adapters/file-store/manifest-patch.js';

const TEXT = `# The fleet's upgrade to 17.4.8, started by hand.
apiVersion: meridian.dev/v1alpha1
kind: ProxyRollout
metadata:
  name: first
spec:
  version: 17.4.8 # the target
  paused: true
---
# A second rollout in the same file
apiVersion: meridian.dev/v1alpha1
kind: ProxyRollout
metadata:
  name: second
spec:
  version: 17.5.0
`;

test('a spec patch edits one document in place and keeps comments and the other documents', () => {
  const r = patchManifestText(TEXT, 1, { paused: true });
  assert.ok(r.ok, r.ok ? '' : r.error);
  assert.match(r.value, /# The fleet's upgrade to 17.4.8, started by hand./);
  assert.match(r.value, /version: 17.4.8 # the target/);
  assert.match(r.value, /# A second rollout in the same file/);
  const docs = parseAllDocuments(r.value).map((d) => d.toJS() as { spec: Record<string, unknown> });
  assert.deepEqual(docs.map((d) => d.spec), [{ version: '17.4.8', paused: true }, { version: '17.5.0', paused: true }]);
});

test('null removes a field; a patch that makes the manifest invalid is refused with the reason', () => {
  const r = patchManifestText(TEXT, 0, { paused: null });
  assert.ok(r.ok);
  assert.deepEqual((parseAllDocuments(r.value)[0]?.toJS() as { spec: unknown }).spec, { version: '17.4.8' });
  const bad = patchManifestText(TEXT, 0, { aborted: true });
  assert.deepEqual(bad, { ok: false, error: 'spec.paused: an aborted rollout cannot also be paused: remove one of spec.paused and spec.aborted' });
  assert.deepEqual(patchManifestText(TEXT, 5, { paused: true }), { ok: false, error: 'document 6 cannot be parsed' });
});
