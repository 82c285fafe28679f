// The timeline of a running (or finished) rollout from its status, and of one not started from its plan.
import { h, plural } from './dom.js';
import { both, duration, laneList, timeline } from './timeline.js';

const ms = (iso) => (iso ? Date.parse(iso) : undefined);

function proxyText(p, ctx, timeZone) {
  const parts = [];
  if (p.outAt) parts.push(`out of rotation ${both(ms(p.outAt), timeZone)}`);
  if (p.sessionsAtOut !== undefined) {
    const now = ctx.sessionsNow.get(p.name);
    parts.push(`${plural(p.sessionsAtOut, 'session')} when taken out${p.step === 'Draining' && now !== undefined ? `, ${now} now` : ''}`);
  }
  if (p.drainedAt) parts.push(`drained ${both(ms(p.drainedAt), timeZone)}`);
  // While draining, its wait says until when; after, the deadline it drained against.
  if (p.drainDeadlineAt && p.waitingFor?.reason !== 'Drain') parts.push(`drain deadline ${both(ms(p.drainDeadlineAt), timeZone)}`);
  if (p.drainedAt) parts.push(p.sessionsCut ? `${plural(p.sessionsCut, 'session')} cut` : 'no session cut');
  if (p.doneAt) parts.push(`back ${both(ms(p.doneAt), timeZone)}`);
  if (p.waitingFor) parts.push(`waits for ${p.waitingFor.message}${p.waitingFor.until ? ` (until ${both(ms(p.waitingFor.until), timeZone)})` : ''}`);
  return parts.join('; ') || 'not taken out yet';
}

/** Lanes from a rollout's status: its windows, notices and proxies, by region in wave order. */
export function statusLanes(r, ctx) {
  const regions = [];
  const add = (name) => regions.includes(name) || regions.push(name);
  for (const p of [...r.proxies].sort((a, b) => a.wave - b.wave)) add(p.region);
  for (const w of r.windows) add(w.region);
  return regions.map((region) => {
    const timeZone = r.windows.find((w) => w.region === region)?.timeZone ?? ctx.timeZones.get(region);
    return {
      region,
      timeZone,
      windows: r.windows.filter((w) => w.region === region).map((w) => ({ startAt: ms(w.startAt), endAt: ms(w.endAt) })),
      notices: r.notices.filter((n) => n.region === region).map((n) => ({ at: ms(n.givenAt ?? n.dueAt), label: `Notice ${n.leadTime} ahead`, given: Boolean(n.givenAt) })),
      proxies: r.proxies
        .filter((p) => p.region === region)
        .map((p) => ({
          name: p.name,
          step: p.step,
          from: ms(p.outAt),
          drainedAt: ms(p.drainedAt),
          to: ms(p.doneAt),
          deadline: ms(p.drainDeadlineAt),
          text: proxyText(p, ctx, timeZone),
        })),
    };
  });
}

/** Lanes from `meridian rollout plan`'s plan: every window occurrence, notice and batch it expects. */
export function planLanes(plan) {
  const deadlineMs = plan.settings.drainDeadlineMs;
  return plan.waves.flatMap((w) =>
    w.regions.map((r) => ({
      region: r.region,
      timeZone: r.timeZone,
      windows: r.occurrences.map((o) => ({ startAt: o.window.startAt, endAt: o.window.endAt, note: `wave ${w.index + 1}${o.replaced ? `, replaced: ${o.replaced.because.replace(/-/g, ' ')}` : ''}` })),
      notices: r.occurrences.flatMap((o) => o.notices.filter((n) => n.sent).map((n) => ({ at: n.sendAt, label: `Notice ${n.leadTime} ahead (${n.channels.join(', ') || 'logged'})`, given: false }))),
      proxies: r.occurrences.flatMap((o) =>
        o.batches.flatMap((b) =>
          b.proxies.map((p) => ({
            name: p.name,
            step: 'Planned',
            from: p.outAt,
            drainedAt: p.drainedAt,
            to: p.backAt,
            deadline: p.outAt + deadlineMs,
            text: `${p.sessionsKnown ? plural(p.sessions, 'session') : 'sessions unknown (counted 0)'} now; out ${both(p.outAt, r.timeZone)}, drained in about ${duration(p.drainMs)}${p.drainCapped ? ' (reaches the drain deadline)' : ''}, ${p.expectedCut} expected cut; back ${both(p.backAt, r.timeZone)}`,
          })),
        ),
      ),
    })),
  );
}

export function statusTimeline(r, ctx) {
  const lanes = statusLanes(r, ctx);
  if (!lanes.length) return '';
  return h('div', { class: 'timeline-box' }, timeline(lanes, ctx.nowMs, `Rollout ${r.namespace}/${r.name} by region`), laneList(lanes));
}

export function planView(r, ctx) {
  if (r.planError) return h('p', { class: 'error' }, `No plan: ${r.planError}`);
  const plan = r.plan;
  if (!plan) return '';
  const t = plan.totals;
  const lanes = planLanes(plan);
  return h(
    'div',
    { class: 'plan', 'data-plan': plan.rollout },
    h('h4', {}, 'Plan if started now (as `meridian rollout plan` prints it)'),
    h(
      'p',
      {},
      `${plural(t.upgrading, 'proxy', 'proxies')} to upgrade of ${t.targets}` +
        `${t.skipped ? `, ${t.skipped} already on ${plan.version}` : ''}; ${plural(t.notices, 'notice')}; ${plural(t.sessionsNow, 'session')} now, ${t.expectedCut} expected cut; ` +
        `${t.startUtc ? `first out ${t.startUtc}, ` : ''}done by ${t.endUtc} (${duration(t.durationMs)} from now).`,
    ),
    h('p', { class: plan.versionSkew.kind === 'refused' ? 'error' : 'muted' }, `Version skew: ${plan.versionSkew.message}`),
    h('p', { class: 'muted' }, `Drain deadline ${duration(plan.settings.drainDeadlineMs)}, at most ${plan.settings.maxUnavailable} out at once, ${plan.settings.verifyScrapes} verify scrapes; ${t.unknownSessions.length ? `no session count for ${t.unknownSessions.join(', ')}` : 'every proxy\'s sessions known'}${t.spilledRegions.length ? `; spills past its first window: ${t.spilledRegions.join(', ')}` : ''}.`),
    plan.warnings.length ? h('ul', { class: 'error' }, plan.warnings.map((w) => h('li', {}, w))) : '',
    timeline(lanes, ctx.nowMs, `Plan of ${plan.rollout}`),
    laneList(lanes),
  );
}
