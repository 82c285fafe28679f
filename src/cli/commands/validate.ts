import { selectCanaryProxies } from '../../canary/core/select-subset.js';
import type { ProxyCanary } from '../../model/canary.js';
import type { FieldError } from '../../model/field-error.js';
import type { ProxyFleet } from '../../model/fleet.js';
import type { ProxyRollout } from '../../model/rollout.js';
import { rolloutFleetErrors } from '../../model/rollout-rules.js';
import type { ManifestProblem } from '../../model/store.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { formatProblem, loadManifestDir, locateFields, type AcceptedDocument } from '../offline-context.js';

/** `meridian validate DIR|FILE`: exits 1 naming file, line and field of every problem. */
export async function runValidate(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags(args, {}, true);
  const [dir, ...extra] = positionals;
  if (!dir || extra.length) throw new Error('usage: meridian validate DIR|FILE');
  const loaded = await loadManifestDir(dir);
  const problems = [...loaded.problems, ...(await crossProblems(loaded.resources, io))];
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

/** The fleet a rollout or canary names (or the only one of its namespace), when it is in the same directory. */
function fleetFor(d: AcceptedDocument, named: string | undefined, fleets: readonly AcceptedDocument[]): AcceptedDocument | undefined {
  const inNamespace = fleets.filter((f) => f.key.namespace === d.key.namespace);
  return named ? inNamespace.find((f) => f.key.name === named) : inNamespace.length === 1 ? inNamespace[0] : undefined;
}

/** Each ProxyRollout and ProxyCanary checked against the fleet it acts on, each problem at the field it is about. */
async function crossProblems(docs: readonly AcceptedDocument[], io: CliIo): Promise<ManifestProblem[]> {
  const fleets = docs.filter((d) => d.resource.kind === 'ProxyFleet');
  const out: ManifestProblem[] = [];
  for (const d of docs) {
    const r = d.resource;
    if (r.kind !== 'ProxyRollout' && r.kind !== 'ProxyCanary') continue;
    const fleet = fleetFor(d, r.spec.fleet, fleets);
    if (!fleet) {
      io.out(`${d.source}:${d.line}: ${r.kind} ${d.key.name} not checked against a fleet (${r.spec.fleet ? `no ProxyFleet "${r.spec.fleet}"` : 'no single ProxyFleet'} here)`);
      continue;
    }
    const spec = (fleet.resource as ProxyFleet).spec;
    // Every proxy taken as ready: what fails even then fails whenever the canary starts.
    const canary = r.kind === 'ProxyCanary' ? selectCanaryProxies((r as ProxyCanary).spec, spec, () => true) : undefined;
    const errors: FieldError[] = r.kind === 'ProxyRollout' ? rolloutFleetErrors((r as ProxyRollout).spec, spec) : canary && !canary.ok ? canary.error : [];
    const positions = await locateFields(d, errors.map((e) => e.path));
    errors.forEach((error, i) => {
      const at = positions[i];
      out.push({ source: d.source, line: at?.line ?? d.line, column: at?.column ?? d.column, error });
    });
  }
  return out;
}
