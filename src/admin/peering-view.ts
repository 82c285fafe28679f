import type { ProxyPeering } from '../model/peering.js';
import { DEFAULT_NAMESPACE } from '../model/resource.js';
import type { PeeringView } from './peering-schemas.js';

/** The API's view of a ProxyPeering: what it was asked and everything the controller found and did. */
export function peeringView(p: ProxyPeering): PeeringView {
  const st = p.status ?? {};
  return {
    namespace: p.metadata.namespace ?? DEFAULT_NAMESPACE,
    name: p.metadata.name,
    dryRun: p.spec.dryRun ?? false,
    paused: p.spec.paused ?? false,
    ...(st.phase ? { phase: st.phase } : {}),
    ...(st.message ? { message: st.message } : {}),
    ...(st.inventory ? { inventory: { ...st.inventory } } : {}),
    coverage: (st.coverage ?? []).map((c) => ({ ...c })),
    ...(st.tunnelStrategy ? { tunnelStrategy: { ...st.tunnelStrategy } } : {}),
    ...(st.allowList ? { allowList: { ...st.allowList } } : {}),
    links: (st.links ?? []).map((l) => ({ ...l })),
  };
}
