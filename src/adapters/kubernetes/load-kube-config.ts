import { access, readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { err, ok, type Result } from '../../model/result.js';

/** Where credentials may come from, as the config read them (only src/config.ts reads the environment). */
export interface KubeConfigSources {
  /** `--kubeconfig FILE` or `KUBECONFIG` (a list separated by ':' is merged, the first file's context wins, as kubectl does). */
  readonly kubeconfig?: { readonly paths: readonly string[]; readonly from: string };
  /** `KUBERNETES_SERVICE_HOST`/`_PORT`, set by the kubelet in every pod. */
  readonly inCluster?: { readonly host: string; readonly port: string };
  /** The mounted service account (token, ca.crt, namespace). */
  readonly serviceAccountDir: string;
}

export interface LoadedKubeConfig {
  readonly kubeConfig: KubeConfig;
  /** The context's namespace, or the pod's; undefined when neither says. */
  readonly namespace?: string;
  /** Which source was used, for the log. */
  readonly source: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * The client's credentials: a kubeconfig when one is named, else the pod's service account.
 * Unlike client-node's loadFromDefault, never a silent http://localhost:8080: with neither, the
 * error names what was tried.
 */
export async function loadKubeConfig(sources: KubeConfigSources): Promise<Result<LoadedKubeConfig, string>> {
  if (sources.kubeconfig && sources.kubeconfig.paths.length > 0) return fromFiles(sources.kubeconfig.paths, sources.kubeconfig.from);
  if (sources.inCluster) return fromServiceAccount(sources.inCluster, sources.serviceAccountDir);
  return err(
    `no Kubernetes credentials: no --kubeconfig, KUBECONFIG is not set, and this is not a pod (KUBERNETES_SERVICE_HOST is not set); Meridian does not fall back to http://localhost:8080`,
  );
}

async function fromFiles(paths: readonly string[], from: string): Promise<Result<LoadedKubeConfig, string>> {
  const kubeConfig = new KubeConfig();
  for (const [i, path] of paths.entries()) {
    const one = new KubeConfig();
    try {
      one.loadFromString(await readFile(path, 'utf8'));
    } catch (e) {
      return err(`kubeconfig ${path} (from ${from}): ${e instanceof Error ? e.message : String(e)}`);
    }
    // Relative certificate and key paths are relative to the file that names them.
    one.makePathsAbsolute(join(path, '..'));
    if (i === 0) kubeConfig.loadFromOptions({ clusters: one.clusters, users: one.users, contexts: one.contexts, currentContext: one.currentContext });
    else kubeConfig.mergeConfig(one, true);
  }
  const context = kubeConfig.getCurrentContext();
  const object = context ? kubeConfig.getContextObject(context) : null;
  if (!object) return err(`kubeconfig ${paths.join(':')} (from ${from}): ${context ? `current-context "${context}" is not defined` : 'no current-context'}`);
  if (!kubeConfig.getCluster(object.cluster)) return err(`kubeconfig ${paths.join(':')} (from ${from}): context "${context}" names cluster "${object.cluster}", which is not defined`);
  return ok({ kubeConfig, ...(object.namespace ? { namespace: object.namespace } : {}), source: `kubeconfig ${paths.join(':')} (${from}), context ${context}` });
}

async function fromServiceAccount(at: { host: string; port: string }, dir: string): Promise<Result<LoadedKubeConfig, string>> {
  const token = join(dir, 'token');
  const ca = join(dir, 'ca.crt');
  for (const file of [token, ca]) if (!(await exists(file))) return err(`in-cluster credentials: ${file} is missing (is automountServiceAccountToken off for this pod?)`);
  const host = isIPv6(at.host) ? `[${at.host}]` : at.host;
  const kubeConfig = new KubeConfig();
  // The token file, not its contents: the kubelet rotates projected tokens, and client-node re-reads it.
  kubeConfig.loadFromClusterAndUser({ name: 'in-cluster', server: `https://${host}:${at.port}`, caFile: ca, skipTLSVerify: false }, { name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: token } } });
  const nsFile = join(dir, 'namespace');
  const namespace = (await exists(nsFile)) ? (await readFile(nsFile, 'utf8')).trim() : '';
  return ok({ kubeConfig, ...(namespace ? { namespace } : {}), source: `in-cluster service account (${dir}), API server ${host}:${at.port}` });
}
