import { badge, h, plural, table, utc, words } from './dom.js';
import { planView, statusTimeline } from './rollout-timeline.js';

const FINISHED = new Set(['Completed', 'Failed', 'Aborted']);
const OUT_OF_ROTATION = new Set(['OutOfRotation', 'Draining', 'Upgrading', 'Verifying', 'RollingBack']);

/** An action button: `act` asks for confirmation naming what will happen, then sends the command. */
export function actionButton(ctx, action) {
  const key = `${action.kind}/${action.namespace}/${action.name}/${action.verb}`;
  return h(
    'button',
    { type: 'button', class: action.danger ? 'danger' : undefined, 'data-key': key, 'data-action': key, disabled: !ctx.canAct, title: ctx.canAct ? undefined : ctx.readOnlyWhy, onclick: () => ctx.act(action) },
    action.label,
  );
}

function runningVersion(ctx, proxy) {
  return ctx.versions.get(proxy) ?? 'the version it runs';
}

/** What each command does to this rollout, in the words of the confirmation. */
function rolloutActions(r, ctx) {
  if (FINISHED.has(r.phase) || r.aborted) return [];
  const id = `${r.namespace}/${r.name}`;
  const held = r.proxies.filter((p) => OUT_OF_ROTATION.has(p.step));
  const heldText = held.length ? held.map((p) => `${p.name} (${words(p.step)})`).join(', ') : 'none';
  const base = { kind: 'rollouts', namespace: r.namespace, name: r.name };
  const actions = [];
  if (r.paused && !r.startedAt) actions.push({ ...base, verb: 'start', label: 'Start', title: `Start rollout ${id}?`, text: `Rollout ${id} starts upgrading the fleet to ${r.version}: notices go out and proxies are taken out of rotation in their maintenance windows.` });
  if (!r.paused) actions.push({ ...base, verb: 'pause', label: 'Pause', title: `Pause rollout ${id}?`, text: `No further proxy is taken out of rotation and no notice is sent until you resume. Proxies out of rotation now finish their step: ${heldText}.` });
  if (r.paused && r.startedAt) actions.push({ ...base, verb: 'resume', label: 'Resume', title: `Resume rollout ${id}?`, text: `Rollout ${id} goes on upgrading to ${r.version} where it stopped: proxies are taken out of rotation again in their windows.` });
  const back = held.map((p) => `${p.name} back into rotation on ${runningVersion(ctx, p.name)}`).join(', ');
  const skipped = r.proxies.filter((p) => p.step === 'Pending' || p.step === 'Noticed').length;
  actions.push({
    ...base,
    verb: 'abort',
    label: 'Abort',
    danger: true,
    title: `Abort rollout ${id}?`,
    text: `${held.length ? `Abort puts ${back}` : 'No proxy is out of rotation'}; ${plural(skipped, 'proxy', 'proxies')} not yet taken out ${skipped === 1 ? 'is' : 'are'} skipped; upgraded proxies stay on ${r.version}. It cannot be undone: a new ProxyRollout is needed to go again.`,
  });
  return actions;
}

function waitText(w) {
  if (!w) return '';
  const until = w.untilLocal ?? (w.until ? utc(w.until) : undefined);
  return `${words(w.reason)}: ${w.message}${until ? ` (until ${until})` : ''}`;
}

function windowsList(r) {
  if (!r.windows.length) return '';
  return h(
    'ul',
    { class: 'windows' },
    r.windows.map((w) => h('li', {}, `${w.region}: ${w.startLocal && w.endLocal ? `${w.startLocal} – ${w.endLocal} local, ` : ''}${utc(w.startAt)} – ${utc(w.endAt)}`)),
  );
}

export function rolloutsView(rollouts, ctx) {
  if (!rollouts.length) return [h('p', {}, 'No ProxyRollout is defined.')];
  return rollouts.map((r) => {
    const phase = r.phase ?? 'Pending';
    return h(
      'div',
      { class: 'card rollout', 'data-rollout': `${r.namespace}/${r.name}` },
      h('h3', {}, `${r.namespace}/${r.name} to ${r.version} `, badge(phase, words(phase)), r.paused && phase !== 'Paused' ? [' ', badge('Paused', 'held (paused)')] : '', r.aborted ? [' ', badge('Aborted', 'aborting')] : ''),
      h('p', {}, r.message ?? 'Not evaluated yet.'),
      h(
        'p',
        { class: 'muted' },
        [
          r.currentWave !== undefined ? `wave ${r.currentWave + 1} of ${r.waves}` : plural(r.waves, 'wave'),
          r.startedAt ? `started ${utc(r.startedAt)}` : 'not started',
          r.finishedAt ? `finished ${utc(r.finishedAt)}` : '',
          r.sessionsCut !== undefined ? `${plural(r.sessionsCut, 'session')} cut` : '',
          r.notices.length ? `${plural(r.notices.filter((n) => n.givenAt).length, 'notice')} given of ${r.notices.length}` : '',
        ]
          .filter(Boolean)
          .join(' · '),
      ),
      windowsList(r),
      h('div', { class: 'actions' }, rolloutActions(r, ctx).map((a) => actionButton(ctx, a))),
      r.startedAt ? statusTimeline(r, ctx) : planView(r, ctx),
      table(
        ['Proxy', 'Region', 'Wave', 'Step', 'Sessions when taken out', 'Waits for', 'Note'],
        r.proxies.map((p) =>
          h(
            'tr',
            { 'data-proxy': p.name },
            h('th', { scope: 'row' }, p.name),
            h('td', {}, p.region),
            h('td', {}, String(p.wave + 1)),
            h('td', { class: 'step' }, badge(p.step)),
            h('td', {}, p.sessionsAtOut === undefined ? '' : String(p.sessionsAtOut), p.sessionsCut ? h('span', { class: 'error' }, ` (${p.sessionsCut} cut)`) : ''),
            h('td', {}, waitText(p.waitingFor)),
            h('td', {}, p.message ?? ''),
          ),
        ),
      ),
    );
  });
}
