import type { FieldError } from './field-error.js';
import type { ProxyPeeringSpec } from './peering.js';

/** Rules a ProxyPeering must keep on its own (the schema cannot say them). */
export function peeringSemanticErrors(spec: ProxyPeeringSpec): FieldError[] {
  const out: FieldError[] = [];
  for (const which of ['nodes', 'proxies'] as const) {
    const s = spec.inventory[which];
    if ((s.url === undefined) === (s.command === undefined)) out.push({ path: ['spec', 'inventory', which], message: 'give exactly one of url or command' });
  }
  const cn = spec.apply?.clusterNetworking;
  if (cn && cn.url === undefined && cn.command === undefined) out.push({ path: ['spec', 'apply', 'clusterNetworking'], message: 'give url, command or both' });
  if (cn?.command && !cn.command.some((a) => a.includes('{file}'))) out.push({ path: ['spec', 'apply', 'clusterNetworking', 'command'], message: 'the command must take the resource file: put {file} in it (tctl create {file})' });
  // tctl create needs -f when the stored resource is not the default, and --confirm when teleport.yaml manages it: Meridian reads that and adds them.
  if (cn?.command?.some((a) => ['-f', '--force', '--confirm'].includes(a))) out.push({ path: ['spec', 'apply', 'clusterNetworking', 'command'], message: 'leave out -f, --force and --confirm: Meridian adds them as the stored resource needs (tctl create {file})' });
  if (cn && (cn.read.url === undefined) === (cn.read.command === undefined)) out.push({ path: ['spec', 'apply', 'clusterNetworking', 'read'], message: 'give exactly one of url or command (e.g. [tctl, get, cluster_networking_config, --format=json])' });
  const al = spec.apply?.allowList;
  if (!spec.dryRun && !al?.file && !al?.url) out.push({ path: ['spec', 'apply', 'allowList'], message: 'links need somewhere to go: give a file, a url, or both (or set dryRun)' });
  return out;
}
