import { badge, h, table, words } from './dom.js';

export function explainView(answer) {
  const { decision, explanation } = answer;
  const head =
    decision.kind === 'proxy'
      ? h('p', { class: 'decision' }, `${answer.ip} goes to ${decision.proxy} in ${decision.region} (${decision.publicUrl}): ${words(decision.reason)}${decision.saturated ? ', although it is at capacity' : ''}.`)
      : h('p', { class: 'decision error' }, `${answer.ip}: no proxy can take it: ${decision.reason}.`);
  const where = explanation.location ? Object.entries(explanation.location).map(([k, v]) => `${k} ${v}`).join(', ') : 'unknown to GeoIP';
  return [
    head,
    h('p', { class: 'muted' }, `Location: ${where}.`),
    h('ol', {}, explanation.steps.map((st) => h('li', {}, `${words(st.rule)}: ${words(st.outcome)}${st.region ? ` (${st.region})` : ''}${st.why ? `: ${st.why}` : ''}`))),
    explanation.proxyChoice ? h('p', {}, `Within ${explanation.proxyChoice.region}: ${explanation.proxyChoice.why}.`) : '',
    table(
      ['Region', 'State', 'Verdict', 'Distance'],
      explanation.regions.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.region + (r.isDefault ? ' (default)' : '')), h('td', {}, badge(r.state)), h('td', {}, words(r.verdict)), h('td', {}, r.distanceKm === undefined ? '' : `${Math.round(r.distanceKm)} km`))),
    ),
  ];
}
