import { RolloutsResponse, RolloutView } from '../../admin/rollout-schemas.js';
import { DEFAULT_ADMIN_URL } from '../../config.js';
import { parseDuration } from '../../model/duration.js';
import { DEFAULT_NAMESPACE } from '../../model/resource.js';
import type { ProxyRollout } from '../../model/rollout.js';
import { commandPatch, ROLLOUT_VERBS, type RolloutVerb } from '../../rollout/core/rollout-commands.js';
import { getJson, postJson } from '../admin-client.js';
import { clockNote } from '../clock-note.js';
import { fetchControllerClock } from '../controller-clock.js';
import { parseFlags } from '../flags.js';
import { watchLoop } from '../watch-loop.js';
import type { CliIo } from '../io.js';
import { formatProblem, loadManifestDir, patchManifestSpec } from '../offline-context.js';
import { renderRollout } from '../rollout-status-text.js';
import { runRolloutPlan } from './rollout-plan.js';

const USAGE = 'usage: meridian rollout plan FILE | start|pause|resume|abort NAME | status [NAME] [-w]';

/** `meridian rollout ...`: plan a rollout, command one, or watch it. */
export async function runRollout(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'plan') return runRolloutPlan(rest, io);
  if (sub === 'status') return runRolloutStatus(rest, io);
  if (sub && (ROLLOUT_VERBS as readonly string[]).includes(sub)) return runRolloutCommand(sub as RolloutVerb, rest, io);
  io.err(`meridian rollout: ${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}\n${USAGE}`);
  return 2;
}

async function runRolloutCommand(verb: RolloutVerb, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { server: { type: 'string' }, manifests: { type: 'string' }, namespace: { type: 'string', short: 'n', default: DEFAULT_NAMESPACE } }, true);
  const [name, ...extra] = positionals;
  if (!name || extra.length) throw new Error(`rollout ${verb} takes one NAME (${USAGE})`);
  if (values.server && values.manifests) throw new Error('give --server (a running controller) or --manifests (edit the files), not both');
  if (values.manifests) return patchOffline(verb, name, values.namespace, values.manifests, io);
  const view = await postJson(values.server ?? DEFAULT_ADMIN_URL, `/api/v1/rollouts/${encodeURIComponent(values.namespace)}/${encodeURIComponent(name)}/${verb}`, RolloutView);
  io.out(`${verb}: ${view.namespace}/${view.name} — ${view.phase ?? 'Pending'}${view.paused ? ' (paused)' : ''}${view.aborted ? ' (aborting)' : ''}`);
  return 0;
}

/** Without a controller: the same change, made in the manifest file (commit it to Git). */
async function patchOffline(verb: RolloutVerb, name: string, namespace: string, dir: string, io: CliIo): Promise<number> {
  const loaded = await loadManifestDir(dir);
  const doc = loaded.resources.find((d) => d.resource.kind === 'ProxyRollout' && d.key.name === name && d.key.namespace === namespace);
  if (!doc) {
    for (const p of loaded.problems) io.err(formatProblem(p));
    throw new Error(`no valid ProxyRollout ${namespace}/${name} in ${dir}`);
  }
  const patch = commandPatch(verb, doc.resource as ProxyRollout, false);
  if (!patch.ok) throw new Error(patch.error);
  const r = await patchManifestSpec(doc, patch.value);
  if (!r.ok) throw new Error(r.error);
  io.out(`${verb}: edited ${doc.source} (${Object.entries(patch.value).map(([k, v]) => (v === null ? `removed spec.${k}` : `spec.${k}: ${String(v)}`)).join(', ')})`);
  return 0;
}

async function runRolloutStatus(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      server: { type: 'string', default: DEFAULT_ADMIN_URL },
      namespace: { type: 'string', short: 'n', default: DEFAULT_NAMESPACE },
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', short: 'w', default: false },
      interval: { type: 'string', default: '2s' },
    },
    true,
  );
  const [name] = positionals;
  const interval = parseDuration(values.interval);
  if (!interval.ok) throw new Error(`--interval: ${interval.error}`);
  const show = async (): Promise<void> => {
    const views = name
      ? [await getJson(values.server, `/api/v1/rollouts/${encodeURIComponent(values.namespace)}/${encodeURIComponent(name)}`, RolloutView)]
      : (await getJson(values.server, '/api/v1/rollouts', RolloutsResponse)).rollouts;
    if (values.json) {
      io.out(JSON.stringify(name ? views[0] : { rollouts: views }, null, 2));
      return;
    }
    // On the simulator's clock (the demo), every time below is a simulated one: said once, on top.
    const note = clockNote(await fetchControllerClock(values.server));
    io.out(`${note ? `${note}\n\n` : ''}${views.length ? views.map(renderRollout).join('\n\n') : 'No ProxyRollouts.'}`);
  };
  if (!values.watch) {
    await show();
    return 0;
  }
  return watchLoop(io, { intervalMs: interval.value, clear: !values.json }, show);
}
