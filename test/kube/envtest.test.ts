import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { backendFromEnv, startTestCluster } from './cluster.js';
import { clientsFor, GROUP, NS, rollout, VERSION } from './client.js';
import { startControlPlane, type ControlPlane } from './envtest/control-plane.js';
import { readCrds, waitForCrds } from './envtest/crds.js';
import { apiServerFlags, etcdFlags, render } from './envtest/flags.js';
import { parseGoDuration } from './envtest/process.js';
import { rest } from './envtest/rest.js';

// etcd and kube-apiserver stand-ins (fake-bin/): shell scripts that serve what envtest checks.
const FAKE_BIN = fileURLToPath(new URL('./envtest/fake-bin/', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('envtest: the flags, as controller-runtime starts etcd and kube-apiserver', () => {
  it('etcd listens on the suggested client and peer URLs, without fsync when it has the flag', () => {
    assert.deepEqual(render(etcdFlags({ clientUrl: 'http://127.0.0.1:2', peerUrl: 'http://127.0.0.1:3', dataDir: '/d', hasUnsafeNoFsync: true })), [
      '--advertise-client-urls=http://127.0.0.1:2',
      '--data-dir=/d',
      '--listen-client-urls=http://127.0.0.1:2',
      '--listen-peer-urls=http://127.0.0.1:3',
      '--unsafe-no-fsync=true',
    ]);
  });

  it('kube-apiserver serves securely with RBAC, client-certificate users and its service-account keys; --insecure-port=0 only where it exists', () => {
    const flags = apiServerFlags({ etcdUrl: 'http://127.0.0.1:2', certDir: '/c', address: '127.0.0.1', port: 4, hasInsecurePort: false });
    assert.deepEqual(render(flags), [
      '--allow-privileged=true',
      '--authorization-mode=RBAC',
      '--bind-address=127.0.0.1',
      '--cert-dir=/c',
      '--client-ca-file=/c/client-cert-auth-ca.crt',
      '--disable-admission-plugins=ServiceAccount',
      '--etcd-servers=http://127.0.0.1:2',
      '--secure-port=4',
      '--service-account-issuer=https://127.0.0.1:4/',
      '--service-account-key-file=/c/sa-signer.crt',
      '--service-account-signing-key-file=/c/sa-signer.key',
      '--service-cluster-ip-range=10.0.0.0/24',
    ]);
    assert.equal(apiServerFlags({ etcdUrl: 'x', certDir: '/c', address: '127.0.0.1', port: 4, hasInsecurePort: true })['insecure-port'], '0');
  });

  it('timeouts from the environment are Go durations', () => {
    assert.equal(parseGoDuration('20s'), 20_000);
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('500ms'), 500);
    assert.throws(() => parseGoDuration('20'), /invalid duration/);
  });

  it('the backend is chosen as envtest chooses: an existing cluster first, then KUBEBUILDER_ASSETS, else in-process', () => {
    assert.equal(backendFromEnv({ USE_EXISTING_CLUSTER: 'TRUE', KUBEBUILDER_ASSETS: '/a' }), 'existing-cluster');
    assert.equal(backendFromEnv({ KUBEBUILDER_ASSETS: '/a' }), 'envtest');
    assert.equal(backendFromEnv({ USE_EXISTING_CLUSTER: 'false' }), 'in-process');
  });
});

describe('envtest: the control plane on stand-in binaries', { timeout: 120_000 }, () => {
  let log: string;
  let plane: ControlPlane;
  before(async () => {
    log = await mkdtemp(join(tmpdir(), 'meridian-envtest-log-'));
    process.env['FAKE_CONTROL_PLANE_LOG'] = log;
    plane = await startControlPlane({ assets: FAKE_BIN });
  });
  after(async () => {
    delete process.env['FAKE_CONTROL_PLANE_LOG'];
    await rm(log, { recursive: true, force: true });
  });

  it('starts etcd, then kube-apiserver on it with certificates from a fresh CA; the admin user gets in by client certificate, nobody else', async () => {
    const started = (await readFile(join(log, 'started.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; args: string[] });
    assert.deepEqual(started.map((s) => s.name), ['etcd', 'kube-apiserver']);
    const etcdUrl = started[0]!.args.find((a) => a.startsWith('--listen-client-urls='))!.split('=')[1];
    assert.ok(started[1]!.args.includes(`--etcd-servers=${etcdUrl}`));
    assert.ok(started[0]!.args.includes('--unsafe-no-fsync=true'), 'the stand-in etcd lists --unsafe-no-fsync in its help');
    assert.ok(!started[1]!.args.some((a) => a.startsWith('--insecure-port')), 'the stand-in kube-apiserver has no --insecure-port (1.24+)');
    assert.match(plane.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    // The admin kubeconfig verifies the server against the serving CA and presents its client certificate.
    assert.equal(plane.admin.getCurrentCluster()?.skipTLSVerify, false);
    assert.equal((await rest(plane.admin, 'GET', '/api/v1/namespaces/default')).status, 200);
    const stranger = new KubeConfig();
    stranger.loadFromOptions({ clusters: plane.admin.clusters, contexts: plane.admin.contexts, currentContext: plane.admin.currentContext, users: [{ name: 'admin', token: 'not-a-user' }] });
    assert.equal((await rest(stranger, 'GET', '/api/v1/namespaces/default')).status, 401, 'no client certificate of the client CA: not a user');
  });

  it('waits for CRDs until discovery serves them, and gives up after the wait', async () => {
    const crds = await readCrds([fileURLToPath(new URL('../../manifests/crds/', import.meta.url))]);
    assert.deepEqual(crds.map((c) => c.spec.names.plural).sort(), ['proxycanaries', 'proxyfleets', 'proxypeerings', 'proxyrollouts']);
    await assert.rejects(waitForCrds(plane.admin, crds, { maxWaitMs: 200 }), /waiting for CRDs to appear as API resources: still missing meridian\.dev\/v1alpha1/);
    for (const crd of crds) assert.equal((await rest(plane.admin, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
    await waitForCrds(plane.admin, crds);
  });

  it('stops both processes and removes their directories', async () => {
    assert.equal(plane.pids.length, 2);
    assert.ok(plane.pids.every(alive));
    assert.ok(plane.dirs.every((d) => existsSync(d)));
    await plane.stop();
    assert.deepEqual(plane.pids.filter(alive), []);
    assert.deepEqual(plane.dirs.filter((d) => existsSync(d)), []);
  });
});

describe('envtest: startTestCluster with KUBEBUILDER_ASSETS set', { timeout: 120_000 }, () => {
  it('installs the CRDs, makes the namespace, and serves the suites through the fault proxy', async (t) => {
    process.env['KUBEBUILDER_ASSETS'] = FAKE_BIN;
    t.after(() => delete process.env['KUBEBUILDER_ASSETS']);
    const cluster = await startTestCluster();
    t.after(() => cluster.close());
    assert.equal(cluster.backend, 'envtest');
    assert.match(cluster.description, /^envtest: etcd and kube-apiserver from KUBEBUILDER_ASSETS=/);
    const { custom } = clientsFor(cluster);
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyrollouts', body: rollout('env-a') });
    assert.deepEqual((await cluster.get('proxyrollouts', NS, 'env-a'))?.['spec'], { version: '17.4.8' });
    assert.equal((await cluster.list('proxyrollouts', NS)).length, 1);
    assert.equal(await cluster.get('proxyrollouts', NS, 'missing'), undefined);
    assert.ok(Number(await cluster.resourceVersion()) > 0);
  });

  it('a binary that exits at once fails the start with its output; nothing is left behind', async (t) => {
    const assets = await mkdtemp(join(tmpdir(), 'meridian-envtest-broken-'));
    t.after(() => rm(assets, { recursive: true, force: true }));
    await writeFile(join(assets, 'etcd'), '#!/usr/bin/env bash\n[ "$1" = "--help" ] && exit 0\necho "etcd: bad flag" >&2\nexit 3\n');
    await writeFile(join(assets, 'kube-apiserver'), '#!/usr/bin/env bash\nexit 0\n');
    await chmod(join(assets, 'etcd'), 0o755);
    await chmod(join(assets, 'kube-apiserver'), 0o755);
    const workDirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('k8s_test_framework_'));
    const before = workDirs();
    await assert.rejects(startControlPlane({ assets, startTimeoutMs: 5_000 }), /failed to start the control plane: timeout waiting for process etcd to start successfully .*\n?etcd: bad flag/s);
    assert.deepEqual(workDirs().filter((d) => !before.includes(d)), [], 'the five tries removed their directories');
    await assert.rejects(startControlPlane({ assets: tmpdir() }), /has no executable etcd/);
  });
});
