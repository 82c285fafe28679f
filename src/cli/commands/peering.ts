import { readFile } from 'node:fs/promises';
import { CoverageResponse, PeeringsResponse, PeeringView, PlanResponse } from '../../admin/peering-schemas.js';
import { loadManifestDir } from '../offline-context.js';
import type { ProxyPeering } from '../../model/peering.js';
import { DEFAULT_NAMESPACE } from '../../model/resource.js';
import { offlinePeeringStatus } from '../../peering/core/offline-plan.js';
import { PEERING_DEFAULTS, resolvePeeringSpec } from '../../peering/core/peering-settings.js';
import { peeringReports } from '../../peering/peering-report-view.js';
import { DEFAULT_ADMIN_URL } from '../../config.js';
import { getJson } from '../admin-client.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { loadFleet } from '../load-fleet.js';
import { renderCoverage, renderPeeringStatus, renderPlan } from '../peering-text.js';

const USAGE = `usage: meridian peering status|coverage|plan [NAME] [-n NS] [--server URL] [--json] [--limit N]
       meridian peering coverage|plan --manifests DIR --nodes FILE --proxies FILE [--json] [--limit N]   (offline: every proxy taken as ready)`;

/** `meridian peering ...`: coverage and plan from a running controller, or offline from inventory files. */
export async function runPeering(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'status' && sub !== 'coverage' && sub !== 'plan') {
    io.err(`meridian peering: ${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parseFlags(
    rest,
    {
      server: { type: 'string', default: DEFAULT_ADMIN_URL },
      namespace: { type: 'string', short: 'n', default: DEFAULT_NAMESPACE },
      json: { type: 'boolean', default: false },
      limit: { type: 'string', default: '100' },
      manifests: { type: 'string' },
      nodes: { type: 'string' },
      proxies: { type: 'string' },
    },
    true,
  );
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`--limit: "${values.limit}" is not a whole number >= 0`);
  if (positionals.length > 1) throw new Error(USAGE);
  const print = <T>(json: T, text: (v: T) => string): number => {
    io.out(values.json ? JSON.stringify(json, null, 2) : text(json));
    return 0;
  };
  if (values.manifests !== undefined || values.nodes !== undefined) {
    if (sub === 'status') throw new Error('status needs a running controller (--server)');
    const offline = await offlineReports(values.manifests, values.nodes, values.proxies, positionals[0], limit, io);
    return sub === 'plan' ? print(offline.plan, renderPlan) : print(offline.coverage, renderCoverage);
  }
  const name = positionals[0] ?? (await onlyPeering(values.server, values.namespace));
  const path = `/api/v1/peerings/${encodeURIComponent(values.namespace)}/${encodeURIComponent(name)}`;
  if (sub === 'status') return print(await getJson(values.server, path, PeeringView), renderPeeringStatus);
  if (sub === 'coverage') return print(await getJson(values.server, `${path}/coverage?limit=${limit}`, CoverageResponse), renderCoverage);
  return print(await getJson(values.server, `${path}/plan?limit=${limit}`, PlanResponse), renderPlan);
}

async function onlyPeering(server: string, namespace: string): Promise<string> {
  const { peerings } = await getJson(server, '/api/v1/peerings', PeeringsResponse);
  const mine = peerings.filter((p) => p.namespace === namespace);
  if (mine.length === 1 && mine[0]) return mine[0].name;
  throw new Error(mine.length ? `namespace ${namespace} has ${mine.length} ProxyPeerings (${mine.map((p) => p.name).join(', ')}); name one` : `no ProxyPeering in namespace ${namespace}`);
}

/** The plan from files, as a first run of the controller would make it with every proxy ready. */
async function offlineReports(manifests: string | undefined, nodesFile: string | undefined, proxiesFile: string | undefined, name: string | undefined, limit: number, io: CliIo) {
  if (!manifests || !nodesFile || !proxiesFile) throw new Error(`offline needs --manifests, --nodes and --proxies\n${USAGE}`);
  const fleet = await loadFleet(manifests, io);
  if (!fleet) throw new Error(`no valid ProxyFleet in ${manifests}`);
  const peering = (await loadManifestDir(manifests)).resources.map((d) => d.resource).find((r): r is ProxyPeering => r.kind === 'ProxyPeering' && (!name || r.metadata.name === name));
  const read = async (file: string) => ({ body: await readFile(file, 'utf8'), from: file });
  const status = offlinePeeringStatus(fleet.spec, peering?.spec, await read(nodesFile), await read(proxiesFile), limit, Date.now());
  if (!status.ok) throw new Error(status.error);
  const reports = peeringReports(status.value, peering ? resolvePeeringSpec(peering.spec).holdTime : PEERING_DEFAULTS.holdTime, [], limit);
  if (!reports) throw new Error('no plan was made');
  return reports;
}
