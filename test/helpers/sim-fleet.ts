import type { Region } from '../../src/model/fleet.js';
import type { FleetSim } from '../../src/sim/index.js';

/**
 * A ProxyFleet manifest for the proxies a simulator serves: each observed at its diagnostic
 * address and upgraded through the simulator's upgrade hook. `publicUrl` defaults to
 * https://<name>.example.com.
 */
export function simFleetManifest(sim: FleetSim, regions: readonly Region[], publicUrl: (name: string) => string | undefined = (n) => `https://${n}.example.com`) {
  return {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyFleet',
    metadata: { name: 'e2e' },
    spec: {
      regions,
      proxies: sim.proxies.map((p) => ({
        name: p.name,
        region: p.region,
        publicUrl: publicUrl(p.name),
        diagnosticUrl: p.diagnosticUrl,
        // Every simulated proxy's diagnostic address is on loopback: peering needs one address each.
        peerAddress: `${p.name}.peer.internal:3021`,
        version: '17.4.2',
        upgrade: { method: 'webhook', url: `${sim.controlUrl}/hooks/upgrade` },
      })),
    },
  };
}
