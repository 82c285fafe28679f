import { formatProblem, loadManifestDir } from './offline-context.js';
import type { ProxyFleet } from '../model/fleet.js';
import type { CliIo } from './io.js';

/** The first valid ProxyFleet of a manifest directory, for offline commands; problems go to stderr. */
export async function loadFleet(dir: string, io: CliIo): Promise<ProxyFleet | undefined> {
  const loaded = await loadManifestDir(dir);
  for (const p of loaded.problems) io.err(formatProblem(p));
  const fleet = loaded.resources.map((d) => d.resource).find((r): r is ProxyFleet => r.kind === 'ProxyFleet');
  if (!fleet) io.err(`no valid ProxyFleet in ${dir}`);
  return fleet;
}
