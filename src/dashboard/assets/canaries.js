import { badge, h, plural, table, utc, words } from './dom.js';
import { actionButton } from './rollouts.js';

const FINAL = new Set(['Promoted', 'RolledBack']);

function canaryActions(c) {
  if (FINAL.has(c.phase)) return [];
  const id = `${c.namespace}/${c.name}`;
  const base = { kind: 'canaries', namespace: c.namespace, name: c.name };
  const on = c.proxies.length ? c.proxies.join(', ') : 'its chosen proxies';
  const actions = [];
  if (c.paused && !c.startedAt) actions.push({ ...base, verb: 'start', label: 'Start', title: `Start canary ${id}?`, text: `Build ${c.build} is deployed to ${on}, then baked against the baseline.` });
  if (c.phase === 'Held') actions.push({ ...base, verb: 'promote', label: 'Promote', title: `Promote canary ${id}?`, text: `Build ${c.build} is promoted: a ProxyRollout of it to the whole fleet is created.` });
  if (c.phase === 'Baking' || c.phase === 'Held')
    actions.push({ ...base, verb: 'rollback', label: 'Roll back', danger: true, title: `Roll back canary ${id}?`, text: `${on} go back to the version they ran before ${c.build}; users who opted in go to ordinary proxies.` });
  return actions;
}

function num(v) {
  return v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toPrecision(3);
}

function outcomeText(o) {
  return `${o.check ?? o.query} on ${o.proxy}: ${words(o.result)} (value ${num(o.value)}, baseline ${num(o.baseline)}, limit ${num(o.limit)}, sample ${o.sample}) ${o.reason}`;
}

/** Who opted in: a count of invitations in use, never of people (the login listener keeps no identity). */
function optInText(c) {
  if (!c.optIn) return c.traffic === 'optInOnly' ? h('p', { class: 'muted' }, 'Opted in: not counted (invitations are not enabled on this login listener).') : '';
  const n = c.optIn.activeInvitations;
  return h('p', { class: 'opt-in' }, `Opted in: ${c.optIn.atLeast ? 'at least ' : ''}${plural(n, 'active invitation')} (joined through this instance's login listener and not expired; invitations, not people)`);
}

export function canariesView(canaries, ctx) {
  if (!canaries.length) return [h('p', {}, 'No ProxyCanary is defined.')];
  return canaries.map((c) => {
    const phase = c.phase ?? 'Pending';
    return h(
      'div',
      { class: 'card canary', 'data-canary': `${c.namespace}/${c.name}` },
      h('h3', {}, `${c.namespace}/${c.name}: build ${c.build} `, badge(phase, words(phase)), c.paused && !c.startedAt ? [' ', badge('Paused', 'held back')] : ''),
      h('p', {}, c.message ?? 'Not evaluated yet.'),
      h('p', { class: 'muted' }, [`traffic: ${c.traffic === 'optInOnly' ? 'opted-in users only' : 'normal'}`, c.proxies.length ? `proxies: ${c.proxies.join(', ')}` : '', c.decision ? `decision: ${c.decision.kind} (${c.decision.reason})` : '', c.promotedRollout ? `rollout ${c.promotedRollout}` : ''].filter(Boolean).join(' · ')),
      optInText(c),
      h('div', { class: 'actions' }, canaryActions(c).map((a) => actionButton(ctx, a))),
      c.intervals.length
        ? table(
            ['Interval', 'Verdict', 'Checks'],
            c.intervals.map((i) =>
              h('tr', {}, h('td', {}, `${utc(i.from)} – ${i.to.slice(11, 19)}`), h('td', {}, badge(i.verdict)), h('td', {}, h('ul', {}, [...i.outcomes, ...(i.queries ?? [])].map((o) => h('li', {}, outcomeText(o)))))),
            ),
          )
        : h('p', { class: 'muted' }, 'No interval judged yet.'),
      c.diagnostics.length ? h('p', {}, `Diagnostics: ${c.diagnostics.map((d) => `${d.proxy}: ${d.files.join(', ') || d.error || 'none'}`).join('; ')}`) : '',
      c.offBuild?.length ? h('p', { class: 'error' }, `Off the build: ${c.offBuild.map((o) => `${o.proxy} runs ${o.version}`).join(', ')}`) : '',
      c.deploy.length ? h('p', { class: 'muted' }, `Deploy: ${c.deploy.map((p) => `${p.name} ${words(p.step)}`).join(', ')}`) : '',
      c.revert.length ? h('p', { class: 'muted' }, `Revert: ${c.revert.map((p) => `${p.name} ${words(p.step)}`).join(', ')}; ${plural(c.revert.length, 'proxy', 'proxies')}`) : '',
    );
  });
}
