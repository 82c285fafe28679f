import { fleetView, problemsView } from '../../admin/fleet-view.js';
import { ProblemsResponse, type FleetsResponse } from '../../admin/schemas.js';
import { DEFAULT_ADMIN_URL } from '../../config.js';
import { parseDuration } from '../../model/duration.js';
import type { ProxyFleet } from '../../model/fleet.js';
import { fetchFleets, getJson } from '../admin-client.js';
import type { CliIo } from '../io.js';
import { parseFlags } from '../flags.js';
import { loadManifestDir } from '../offline-context.js';
import { watchLoop } from '../watch-loop.js';
import { renderStatus } from '../status-table.js';

interface StatusReport extends FleetsResponse, ProblemsResponse {}

/** The manifests the controller refused, first: the fleet tables show the last valid version, which can look healthy. */
function renderProblems({ problems }: ProblemsResponse, offline: boolean): string {
  if (!problems.length) return '';
  const what = offline ? 'the controller would refuse them' : 'refused: the objects they define keep their last valid version';
  const lines = problems.map((p) => `  ${p.line === null ? p.source : `${p.source}:${p.line}:${p.column ?? 1}`}: ${p.field ? `${p.field}: ` : ''}${p.message}`);
  return [`Manifest problems (${problems.length}), ${what}:`, ...lines, ''].join('\n');
}

/** Offline: the manifest directory as the controller would load it, with nothing observed. */
async function offlineReport(dir: string): Promise<StatusReport> {
  const loaded = await loadManifestDir(dir);
  const fleets = loaded.resources.map((d) => d.resource).filter((r): r is ProxyFleet => r.kind === 'ProxyFleet');
  return { fleets: fleets.map((f) => fleetView(f, undefined)), ...problemsView(loaded.problems) };
}

export async function runStatus(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    server: { type: 'string' },
    manifests: { type: 'string' },
    json: { type: 'boolean', default: false },
    watch: { type: 'boolean', short: 'w', default: false },
    interval: { type: 'string', default: '2s' },
  });
  const interval = parseDuration(values.interval);
  if (!interval.ok) throw new Error(`--interval: ${interval.error}`);
  if (values.server !== undefined && values.manifests !== undefined) throw new Error('give --server (a running controller) or --manifests (the files alone), not both');
  const { manifests } = values;
  const server = values.server ?? DEFAULT_ADMIN_URL;
  const report = async (): Promise<StatusReport> => {
    if (manifests !== undefined) return offlineReport(manifests);
    const [fleets, problems] = await Promise.all([fetchFleets(server), getJson(server, '/api/v1/problems', ProblemsResponse)]);
    return { ...fleets, ...problems };
  };
  const show = async (): Promise<void> => {
    const r = await report();
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else io.out(`${manifests !== undefined ? `Offline, from ${manifests} (nothing observed)\n` : ''}${renderProblems(r, manifests !== undefined)}${renderStatus(r)}`);
  };
  if (!values.watch) {
    await show();
    return 0;
  }
  return watchLoop(io, { intervalMs: interval.value, clear: !values.json }, show);
}
