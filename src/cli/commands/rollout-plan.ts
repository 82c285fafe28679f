import { DEFAULTS, DEMO_MANIFEST_DIR } from '../../config.js';
import { parseDuration } from '../../model/duration.js';
import type { ProxyFleet } from '../../model/fleet.js';
import { DEFAULT_NAMESPACE } from '../../model/resource.js';
import type { ProxyRollout } from '../../model/rollout.js';
import { planRolloutChecked } from '../../rollout/core/plan-rollout.js';
import type { AuthVersion } from '../../rollout/core/version-skew-gate.js';
import { fetchFleets } from '../admin-client.js';
import { fetchControllerClock, type ControllerClock } from '../controller-clock.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { formatProblem, loadManifestDir, readManifestFile } from '../offline-context.js';
import { formatPlanErrors, formatRolloutPlan } from '../rollout-plan-text.js';

/**
 * `meridian rollout plan FILE`: the timeline of a rollout before anything happens. The fleet
 * comes from the manifests; with --server, session counts, versions and the Auth Service's
 * version from a running controller, and "now" on its clock (the simulator's in the demo).
 */
export async function runRolloutPlan(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      manifests: { type: 'string', default: DEMO_MANIFEST_DIR },
      server: { type: 'string' },
      at: { type: 'string' },
      'scrape-interval': { type: 'string', default: DEFAULTS.observeInterval },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new Error('usage: meridian rollout plan FILE [--manifests DIR] [--server URL] [--at ISO-TIME] [--json]');
  const at = values.at === undefined ? undefined : Date.parse(values.at);
  if (at !== undefined && Number.isNaN(at)) throw new Error(`--at: "${values.at ?? ''}" is not a time (use ISO 8601, e.g. 2026-11-27T09:00:00Z)`);
  const scrape = parseDuration(values['scrape-interval']);
  if (!scrape.ok) throw new Error(`--scrape-interval: ${scrape.error}`);

  const parsed = await readManifestFile(file);
  for (const p of parsed.problems) io.err(formatProblem(p));
  const rollout = parsed.accepted.map((d) => d.resource).find((r): r is ProxyRollout => r.kind === 'ProxyRollout');
  if (!rollout) {
    io.err(`${file}: no valid ProxyRollout`);
    return 1;
  }
  const namespace = rollout.metadata.namespace ?? DEFAULT_NAMESPACE;
  const loaded = await loadManifestDir(values.manifests);
  const fleets = loaded.resources.map((d) => d.resource).filter((r): r is ProxyFleet => r.kind === 'ProxyFleet' && (r.metadata.namespace ?? DEFAULT_NAMESPACE) === namespace);
  const fleet = rollout.spec.fleet ? fleets.find((f) => f.metadata.name === rollout.spec.fleet) : fleets.length === 1 ? fleets[0] : undefined;
  if (!fleet) {
    for (const p of loaded.problems) io.err(formatProblem(p));
    io.err(`${values.manifests}: ${rollout.spec.fleet ? `no valid ProxyFleet "${rollout.spec.fleet}"` : `needs exactly one ProxyFleet in namespace ${namespace} (found ${fleets.length}); name one in spec.fleet`}`);
    return 1;
  }

  const sessions = new Map<string, number>();
  const versions = new Map<string, string>();
  // Offline, the Auth Service's version cannot be read: the check says so rather than guess.
  let auth: AuthVersion | undefined = fleet.spec.auth ? { unknownBecause: 'not read: give --server to read it from a running controller' } : undefined;
  let clock: ControllerClock | undefined;
  if (values.server) {
    const [fleets, c] = await Promise.all([fetchFleets(values.server), fetchControllerClock(values.server)]);
    clock = c;
    const observed = fleets.fleets.find((f) => f.name === fleet.metadata.name && f.namespace === namespace);
    for (const p of observed?.regions.flatMap((r) => r.proxies) ?? []) {
      if (p.lastSuccessAt) sessions.set(p.name, p.sessionsTotal);
      if (p.version !== null) versions.set(p.name, p.version);
    }
    if (fleet.spec.auth) auth = observed?.auth?.version ? { version: observed.auth.version } : { unknownBecause: observed?.auth?.error?.message ?? 'not observed yet by the controller' };
  }
  // On the controller's clock unless --at says otherwise: in the demo that is the simulator's.
  const now = at ?? clock?.now ?? Date.now();
  const plan = planRolloutChecked({ rollout: `${namespace}/${rollout.metadata.name}`, spec: rollout.spec, fleet: fleet.spec, sessions, now, scrapeIntervalMs: scrape.value, versions, ...(auth ? { auth } : {}) });
  if (!plan.ok) {
    io.err(formatPlanErrors(file, plan.error));
    return 1;
  }
  // --at names a time on whichever clock the plan is read against; the label says which that is.
  io.out(values.json ? JSON.stringify(clock ? { ...plan.value, clock: { simulated: clock.simulated, ...(clock.timeFactor === undefined ? {} : { timeFactor: clock.timeFactor }) } } : plan.value, null, 2) : formatRolloutPlan(plan.value, clock));
  return 0;
}
