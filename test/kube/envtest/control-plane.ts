// envtest's ControlPlane (controller-runtime pkg/internal/testing/controlplane/plane.go and
// pkg/envtest/server.go) for Node: etcd and kube-apiserver from KUBEBUILDER_ASSETS on free
// ports, secure serving with a fresh CA, an "admin" user in system:masters by client certificate.
import { access, constants, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { apiServerFlags, CLIENT_CA, etcdFlags, render, SA_CERT, SA_KEY } from './flags.js';
import { suggestPort } from './ports.js';
import { checkFlag, ControlPlaneProcess, parseGoDuration } from './process.js';
import { TinyCA } from './tiny-ca.js';

const DEFAULT_TIMEOUT_MS = 20_000;
const START_TRIES = 5;
const HOST = '127.0.0.1';

export interface ControlPlaneOptions {
  /** The folder holding `etcd` and `kube-apiserver` (KUBEBUILDER_ASSETS). */
  readonly assets: string;
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  readonly attachOutput?: boolean;
}

export interface ControlPlane {
  /** https://127.0.0.1:PORT/ of the API server. */
  readonly url: string;
  /** The admin user (system:masters) with the serving CA. */
  readonly admin: KubeConfig;
  /** Process ids and directories, for tests of the lifecycle. */
  readonly pids: readonly number[];
  readonly dirs: readonly string[];
  stop(): Promise<void>;
}

/** envtest's settings from the environment: KUBEBUILDER_ASSETS, KUBEBUILDER_CONTROLPLANE_{START,STOP}_TIMEOUT, KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT. */
export function controlPlaneOptionsFromEnv(env: NodeJS.ProcessEnv): ControlPlaneOptions | undefined {
  const assets = env['KUBEBUILDER_ASSETS'];
  if (!assets) return undefined;
  return {
    assets,
    startTimeoutMs: env['KUBEBUILDER_CONTROLPLANE_START_TIMEOUT'] ? parseGoDuration(env['KUBEBUILDER_CONTROLPLANE_START_TIMEOUT']) : DEFAULT_TIMEOUT_MS,
    stopTimeoutMs: env['KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT'] ? parseGoDuration(env['KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT']) : DEFAULT_TIMEOUT_MS,
    attachOutput: env['KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT'] === 'true',
  };
}

async function binary(assets: string, name: string): Promise<string> {
  const path = join(assets, name);
  await access(path, constants.X_OK).catch(() => {
    throw new Error(`KUBEBUILDER_ASSETS=${assets} has no executable ${name} (setup-envtest use -p path prints a folder that has etcd and kube-apiserver)`);
  });
  return path;
}

async function startOnce(o: Required<ControlPlaneOptions>): Promise<ControlPlane> {
  const etcdBin = await binary(o.assets, 'etcd');
  const apiBin = await binary(o.assets, 'kube-apiserver');
  const etcd = await ControlPlaneProcess.init();
  let api: ControlPlaneProcess | undefined;
  try {
    const clientUrl = `http://${HOST}:${await suggestPort(HOST)}`;
    const peerUrl = `http://${HOST}:${await suggestPort(HOST)}`;
    const etcdArgs = render(etcdFlags({ clientUrl, peerUrl, dataDir: etcd.dir, hasUnsafeNoFsync: await checkFlag(etcdBin, 'unsafe-no-fsync') }));
    await etcd.start({ path: etcdBin, args: etcdArgs, healthUrl: new URL('/health', clientUrl), startTimeoutMs: o.startTimeoutMs, stopTimeoutMs: o.stopTimeoutMs, attachOutput: o.attachOutput });

    api = await ControlPlaneProcess.init();
    const certDir = api.dir;
    const port = await suggestPort(HOST);
    // Serving certificate for localhost and the listen address; the service-account signer; the client CA (CertAuthn).
    const serving = await TinyCA.create(certDir, 'serving');
    const pair = await serving.newServingCert(['localhost', HOST]);
    await writeFile(join(certDir, 'apiserver.crt'), pair.cert, { mode: 0o640 });
    await writeFile(join(certDir, 'apiserver.key'), pair.key, { mode: 0o640 });
    const sa = await TinyCA.create(certDir, 'sa');
    await writeFile(join(certDir, SA_CERT), sa.ca.cert, { mode: 0o640 });
    await writeFile(join(certDir, SA_KEY), sa.ca.key, { mode: 0o640 });
    const clients = await TinyCA.create(certDir, 'client');
    await writeFile(join(certDir, CLIENT_CA), clients.ca.cert, { mode: 0o600 });

    const args = render(apiServerFlags({ etcdUrl: clientUrl, certDir, address: HOST, port, hasInsecurePort: await checkFlag(apiBin, 'insecure-port') }));
    const url = `https://${HOST}:${port}`;
    await api.start({ path: apiBin, args, healthUrl: new URL('/healthz', url), startTimeoutMs: o.startTimeoutMs, stopTimeoutMs: o.stopTimeoutMs, attachOutput: o.attachOutput });

    const user = await clients.newClientCert({ name: 'admin', groups: ['system:masters'] });
    const admin = new KubeConfig();
    admin.loadFromOptions({
      clusters: [{ name: 'envtest', server: url, caData: Buffer.from(serving.ca.cert).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'admin', certData: Buffer.from(user.cert).toString('base64'), keyData: Buffer.from(user.key).toString('base64') }],
      contexts: [{ name: 'envtest', cluster: 'envtest', user: 'admin' }],
      currentContext: 'envtest',
    });
    const started = api;
    return {
      url,
      admin,
      pids: [etcd.pid, started.pid].filter((p): p is number => p !== undefined),
      dirs: [etcd.dir, started.dir],
      stop: async () => {
        // The API server first, then its etcd (ControlPlane.Stop); both even when one fails.
        const results = await Promise.allSettled([started.stop(o.stopTimeoutMs)]);
        results.push(...(await Promise.allSettled([etcd.stop(o.stopTimeoutMs)])));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    };
  } catch (e) {
    await api?.stop(o.stopTimeoutMs).catch(() => undefined);
    await etcd.stop(o.stopTimeoutMs).catch(() => undefined);
    throw e;
  }
}

/** Starts the control plane, retrying five times as envtest does (a suggested port can be taken before it is bound). */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const o = { startTimeoutMs: DEFAULT_TIMEOUT_MS, stopTimeoutMs: DEFAULT_TIMEOUT_MS, attachOutput: false, ...options };
  let last: unknown;
  for (let i = 0; i < START_TRIES; i++) {
    try {
      return await startOnce(o);
    } catch (e) {
      last = e;
      // A missing binary does not get better with retries.
      if (e instanceof Error && e.message.includes('has no executable')) break;
    }
  }
  throw new Error(`failed to start the control plane: ${last instanceof Error ? last.message : String(last)}`);
}
