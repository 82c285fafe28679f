import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadKubeConfig } from '../../src/adapters/kubernetes/load-kube-config.js';

const dir = await mkdtemp(join(tmpdir(), 'meridian-kubeconfig-'));

const kubeconfig = (context: string, server: string, namespace?: string): string => `apiVersion: v1
kind: Config
current-context: ${context}
clusters:
- name: c-${context}
  cluster:
    server: ${server}
    certificate-authority: ca.pem
users:
- name: u-${context}
  user:
    token: abc
contexts:
- name: ${context}
  context:
    cluster: c-${context}
    user: u-${context}
${namespace ? `    namespace: ${namespace}\n` : ''}`;

describe('loadKubeConfig', () => {
  it('refuses with no source at all, naming what was tried, instead of using localhost:8080', async () => {
    const r = await loadKubeConfig({ serviceAccountDir: join(dir, 'none') });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /no --kubeconfig, KUBECONFIG is not set, and this is not a pod.*does not fall back to http:\/\/localhost:8080/);
  });

  it('reads a kubeconfig: the current context, its namespace, and certificate paths relative to the file', async () => {
    const file = join(dir, 'one.yaml');
    await writeFile(file, kubeconfig('prod', 'https://k8s.example:6443', 'teleport'));
    const r = await loadKubeConfig({ kubeconfig: { paths: [file], from: '--kubeconfig' }, serviceAccountDir: dir });
    assert.ok(r.ok, !r.ok ? r.error : '');
    assert.equal(r.value.namespace, 'teleport');
    assert.equal(r.value.kubeConfig.getCurrentCluster()?.server, 'https://k8s.example:6443');
    assert.equal(r.value.kubeConfig.getCurrentCluster()?.caFile, join(dir, 'ca.pem'));
    assert.match(r.value.source, /--kubeconfig.*context prod/);
  });

  it('merges a KUBECONFIG list; the first file says the current context', async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    await writeFile(a, kubeconfig('first', 'https://a.example:6443'));
    await writeFile(b, kubeconfig('second', 'https://b.example:6443'));
    const r = await loadKubeConfig({ kubeconfig: { paths: [a, b], from: 'KUBECONFIG' }, serviceAccountDir: dir });
    assert.ok(r.ok, !r.ok ? r.error : '');
    assert.equal(r.value.kubeConfig.getCurrentContext(), 'first');
    assert.deepEqual(r.value.kubeConfig.getContexts().map((c) => c.name).sort(), ['first', 'second']);
  });

  it('names the file and where it came from when it cannot be read or has no usable context', async () => {
    const missing = await loadKubeConfig({ kubeconfig: { paths: [join(dir, 'missing.yaml')], from: 'KUBECONFIG' }, serviceAccountDir: dir });
    assert.match(!missing.ok ? missing.error : '', /missing\.yaml \(from KUBECONFIG\)/);
    const noContext = join(dir, 'no-context.yaml');
    await writeFile(noContext, kubeconfig('x', 'https://x:6443').replace('current-context: x', 'current-context: y'));
    const r = await loadKubeConfig({ kubeconfig: { paths: [noContext], from: '--kubeconfig' }, serviceAccountDir: dir });
    assert.match(!r.ok ? r.error : '', /no-context\.yaml \(from --kubeconfig\): current-context "y" is not defined/);
  });

  it("uses the pod's service account: its token file (re-read on rotation), CA and namespace", async () => {
    const sa = await mkdtemp(join(tmpdir(), 'meridian-sa-'));
    await writeFile(join(sa, 'token'), 'tok');
    await writeFile(join(sa, 'ca.crt'), 'ca');
    await writeFile(join(sa, 'namespace'), 'meridian-system\n');
    const r = await loadKubeConfig({ inCluster: { host: 'fd00::1', port: '443' }, serviceAccountDir: sa });
    assert.ok(r.ok, !r.ok ? r.error : '');
    assert.equal(r.value.kubeConfig.getCurrentCluster()?.server, 'https://[fd00::1]:443');
    assert.equal(r.value.kubeConfig.getCurrentUser()?.authProvider?.config?.['tokenFile'], join(sa, 'token'));
    assert.equal(r.value.namespace, 'meridian-system');
  });

  it('names the missing service account file', async () => {
    const sa = await mkdtemp(join(tmpdir(), 'meridian-sa-'));
    await writeFile(join(sa, 'ca.crt'), 'ca');
    const r = await loadKubeConfig({ inCluster: { host: '10.0.0.1', port: '443' }, serviceAccountDir: sa });
    assert.match(!r.ok ? r.error : '', /token is missing \(is automountServiceAccountToken off/);
  });
});
