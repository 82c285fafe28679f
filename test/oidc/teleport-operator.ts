// The Teleport Kubernetes operator's side of the OIDC connector sync, for tests against the test API server.
import { NS } from '../kube/client.js';

export const TELEPORT = { group: 'resources.teleport.dev', version: 'v3', plural: 'teleportoidcconnectors' };
/** The Teleport operator's OIDC connector CRD: `extraCrds` of startTestCluster. */
export const TELEPORT_CRD = new URL('../fixtures/teleport-operator/teleportoidcconnectors.resources.teleport.dev.yaml', import.meta.url).pathname;
export const CALLBACKS = ['https://tokyo-1.example.com/v1/webapi/oidc/callback', 'https://london-1.example.com/v1/webapi/oidc/callback'];

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

