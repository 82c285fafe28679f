// envtest's InstallCRDs (controller-runtime pkg/envtest/crd.go): read every CRD from the
// .json/.yaml/.yml files of the given paths (the last definition of a name wins), create each
// one or update it when it exists, then poll discovery every 100 ms, for at most 10 s, until
// every served version lists the CRD's plural (which happens once the CRD is Established).
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { rest, restOk } from './rest.js';

export interface Crd {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string };
  spec: { group: string; names: { kind: string; plural: string }; versions: { name: string; served: boolean }[] };
}

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
export const CRD_POLL_MS = 100;
export const CRD_MAX_WAIT_MS = 10_000;

export async function readCrds(paths: readonly string[]): Promise<Crd[]> {
  const byName = new Map<string, Crd>();
  for (const path of paths) {
    const files = (await stat(path)).isDirectory() ? (await readdir(path)).sort().map((f) => join(path, f)) : [path];
    for (const file of files) {
      if (!['.json', '.yaml', '.yml'].includes(extname(file))) continue;
      for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
        const crd = doc.toJSON() as Partial<Crd> | null;
        if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec?.names?.kind || !crd.spec.group || !crd.metadata?.name) continue;
        byName.set(crd.metadata.name, crd as Crd);
      }
    }
  }
  return [...byName.values()];
}

async function createOrUpdate(kc: KubeConfig, crd: Crd): Promise<void> {
  const created = await rest(kc, 'POST', CRDS, crd);
  if (created.status === 201 || created.status === 200) return;
  if (created.status !== 409) throw new Error(`unable to create CRD "${crd.metadata.name}": ${created.status} ${JSON.stringify(created.body)}`);
  // Exists: update it to this definition (retry on conflict, as envtest's retry.RetryOnConflict).
  for (let attempt = 0; ; attempt++) {
    const current = (await restOk(kc, 'GET', `${CRDS}/${crd.metadata.name}`)) as Crd;
    const put = await rest(kc, 'PUT', `${CRDS}/${crd.metadata.name}`, { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata.resourceVersion } });
    if (put.status === 200) return;
    if (put.status !== 409 || attempt >= 4) throw new Error(`unable to update CRD "${crd.metadata.name}": ${put.status} ${JSON.stringify(put.body)}`);
  }
}

/** Resolves when discovery lists every served version's plural; rejects after `maxWaitMs`. */
export async function waitForCrds(kc: KubeConfig, crds: readonly Crd[], { pollMs = CRD_POLL_MS, maxWaitMs = CRD_MAX_WAIT_MS } = {}): Promise<void> {
  const waiting = new Map<string, Set<string>>();
  for (const crd of crds) {
    for (const v of crd.spec.versions) {
      if (!v.served) continue;
      const gv = `${crd.spec.group}/${v.name}`;
      waiting.set(gv, (waiting.get(gv) ?? new Set()).add(crd.spec.names.plural));
    }
  }
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    for (const [gv, plurals] of waiting) {
      const a = await rest(kc, 'GET', `/apis/${gv}`).catch(() => undefined);
      for (const r of (a?.status === 200 ? (a.body as { resources?: { name: string }[] }).resources : undefined) ?? []) plurals.delete(r.name);
      if (plurals.size === 0) waiting.delete(gv);
    }
    if (waiting.size === 0) return;
    if (Date.now() >= deadline) throw new Error(`something went wrong waiting for CRDs to appear as API resources: still missing ${[...waiting].map(([gv, p]) => `${gv} ${[...p].join(',')}`).join('; ')}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export async function installCrds(kc: KubeConfig, paths: readonly string[]): Promise<Crd[]> {
  const crds = await readCrds(paths);
  for (const crd of crds) await createOrUpdate(kc, crd);
  await waitForCrds(kc, crds);
  return crds;
}
