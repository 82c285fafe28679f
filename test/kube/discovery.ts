// Discovery documents (/version, /api, /apis, /apis/<group>, /api/v1, /apis/<group>/<version>)
// in the legacy (unaggregated) format, which every client falls back to.
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const VERSION_INFO = { major: '1', minor: '31', gitVersion: 'v1.31.0+meridian-test-apiserver', platform: 'linux/amd64' };

function groupDoc(name: string, types: ResourceType[]): Record<string, unknown> {
  const versions = [...new Set(types.map((t) => t.version))].map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions, preferredVersion: versions[0] };
}

function resourceEntries(t: ResourceType): Record<string, unknown>[] {
  const main = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: VERBS,
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length ? { categories: t.categories } : {}),
  };
  const status = { name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] };
  return t.statusSubresource ? [main, status] : [main];
}

/** The discovery document for a path, or undefined when the path is not a discovery path. */
export function discovery(registry: ResourceRegistry, segments: string[], host: string): Record<string, unknown> | undefined {
  const groups = registry.groups();
  const [root, group, version, ...rest] = segments;
  if (rest.length > 0) return undefined;
  if (root === 'version' && segments.length === 1) return VERSION_INFO;
  if (root === 'api') {
    if (group === undefined) return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
    if (group === 'v1' && version === undefined) {
      const types = groups.get('') ?? [];
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1', resources: types.flatMap(resourceEntries) };
    }
    return undefined;
  }
  if (root !== 'apis') return undefined;
  if (group === undefined) {
    const list = [...groups.entries()].filter(([name]) => name !== '').map(([name, types]) => groupDoc(name, types));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: list };
  }
  const types = groups.get(group);
  if (!types || group === '') return undefined;
  if (version === undefined) return groupDoc(group, types);
  const inVersion = types.filter((t) => t.version === version);
  if (inVersion.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(inVersion[0]!), resources: inVersion.flatMap(resourceEntries) };
}
