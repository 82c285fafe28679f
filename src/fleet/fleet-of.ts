import type { ProxyFleet } from '../model/fleet.js';
import { DEFAULT_NAMESPACE, type ObjectMeta } from '../model/resource.js';
import { err, ok, type Result } from '../model/result.js';
import type { Store } from '../model/store.js';

/** The fleet a rollout or canary acts on: `spec.fleet` in its namespace, or the namespace's only fleet. */
export async function fleetOf(store: Store, r: { readonly metadata: ObjectMeta; readonly spec: { readonly fleet?: string } }): Promise<Result<ProxyFleet, string>> {
  const ns = r.metadata.namespace ?? DEFAULT_NAMESPACE;
  const fleets = (await store.list('ProxyFleet')).filter((f) => (f.metadata.namespace ?? DEFAULT_NAMESPACE) === ns);
  if (r.spec.fleet) {
    const f = fleets.find((x) => x.metadata.name === r.spec.fleet);
    return f ? ok(f) : err(`spec.fleet: ProxyFleet "${r.spec.fleet}" not found in namespace ${ns}`);
  }
  const [only, ...more] = fleets;
  if (!only) return err(`no ProxyFleet in namespace ${ns}`);
  if (more.length) return err(`spec.fleet: namespace ${ns} has ${fleets.length} ProxyFleets; name one`);
  return ok(only);
}
