// The Teleport Kubernetes operator's side of the OIDC connector sync, for tests against the test API server.
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NS } from '../kube/client.js';

export const TELEPORT = { group: 'resources.teleport.dev', version: 'v3', plural: 'teleportoidcconnectors' };
const FIXTURE = new URL('../fixtures/teleport-operator/teleportoidcconnectors.resources.teleport.dev.yaml', import.meta.url).pathname;
export const CALLBACKS = ['https://tokyo-1.example.com/v1/webapi/oidc/callback', 'https://london-1.example.com/v1/webapi/oidc/callback'];

/** A CRD directory for the test API server: Meridian's CRDs, and the Teleport operator's OIDC connector when asked. */
export async function crdDirWith(teleport: boolean): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-crds-'));
  const meridian = new URL('../../manifests/crds/', import.meta.url).pathname;
  for (const f of await readdir(meridian)) if (f.endsWith('.yaml')) await copyFile(join(meridian, f), join(dir, f));
  if (teleport) await copyFile(FIXTURE, join(dir, 'teleportoidcconnectors.resources.teleport.dev.yaml'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** An OIDC connector as a team keeps it in Git, applied for the Teleport operator. */
export function connector(name: string, extra: { annotations?: Record<string, string>; redirect?: string[] } = {}) {
  return {
    apiVersion: 'resources.teleport.dev/v3',
    kind: 'TeleportOIDCConnector',
    metadata: { name, namespace: NS, labels: { team: 'access' }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      client_id: 'meridian',
      client_secret: 'secret://okta',
      issuer_url: 'https://example.okta.com',
      claims_to_roles: [{ claim: 'groups', value: 'admins', roles: ['access'] }],
      max_age: '24h',
      redirect_url: extra.redirect ?? ['https://old.example.com/v1/webapi/oidc/callback'],
    },
  };
}

