import { formatProblem, loadManifestDir } from '../../adapters/file-store/index.js';
import type { AcceptedDocument } from '../../adapters/file-store/index.js';
import type { ProxyFleet } from '../../model/fleet.js';
import type { ProxyRollout } from '../../model/rollout.js';
import { rolloutFleetErrors } from '../../model/rollout-rules.js';
import type { ManifestProblem } from '../../model/store.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';

/** `meridian validate DIR`: exits 1 naming file, line and field of every problem. */
export async function runValidate(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags(args, {}, true);
  const [dir, ...extra] = positionals;
  if (!dir || extra.length) throw new Error('usage: meridian validate DIR');
  const loaded = await loadManifestDir(dir);
  const problems = [...loaded.problems, ...crossProblems(loaded.resources, io)];
  for (const p of problems) io.err(formatProblem(p));
  if (problems.length) {
    io.err(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}`);
    return 1;
  }
  const counts = new Map<string, number>();
  for (const { resource } of loaded.resources) counts.set(resource.kind, (counts.get(resource.kind) ?? 0) + 1);
  for (const d of loaded.ignored) io.out(`${d.source}:${d.line}: skipped ${d.kind} (${d.apiVersion}): not a Meridian resource`);
  io.out(`${dir}: valid (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'no resources'})`);
  return 0;
}

/** Each ProxyRollout checked against the fleet it upgrades, when that fleet is in the same directory. */
function crossProblems(docs: readonly AcceptedDocument[], io: CliIo): ManifestProblem[] {
  const fleets = docs.filter((d) => d.resource.kind === 'ProxyFleet');
  const out: ManifestProblem[] = [];
  for (const d of docs) {
    if (d.resource.kind !== 'ProxyRollout') continue;
    const rollout = d.resource as ProxyRollout;
    const inNamespace = fleets.filter((f) => f.key.namespace === d.key.namespace);
    const fleet = rollout.spec.fleet ? inNamespace.find((f) => f.key.name === rollout.spec.fleet) : inNamespace.length === 1 ? inNamespace[0] : undefined;
    if (!fleet) {
      io.out(`${d.source}:${d.line}: ProxyRollout ${d.key.name} not checked against a fleet (${rollout.spec.fleet ? `no ProxyFleet "${rollout.spec.fleet}"` : 'no single ProxyFleet'} here)`);
      continue;
    }
    for (const error of rolloutFleetErrors(rollout.spec, (fleet.resource as ProxyFleet).spec)) out.push({ source: d.source, line: d.line, column: d.column, error });
  }
  return out;
}
