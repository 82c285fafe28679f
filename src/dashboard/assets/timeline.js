// A rollout's timeline: one lane per region on one time axis (so waves read left to right), each
// with its maintenance windows, notices, and a bar per proxy from out of rotation to back; every
// mark is also listed in words, in the region's local time and in UTC.
import { badge, h, s, words } from './dom.js';

const W = 720;
const LABEL = 110;
const ROW = 12;

const localFormats = new Map();
/** An instant in a region's time zone, as the CLI prints it: "Thu 2026-01-01 09:00 JST". */
export function local(ms, timeZone) {
  if (!timeZone) return '';
  let f = localFormats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    } catch {
      return '';
    }
    localFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

export function utcMinute(ms) {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "09:00 JST (00:00 UTC)", or the day too when it differs from the UTC day. */
export function both(ms, timeZone) {
  const l = local(ms, timeZone);
  return l ? `${l} (${utcMinute(ms)})` : utcMinute(ms);
}

export function duration(ms) {
  const m = Math.round(ms / 60000);
  return m < 90 ? `${m} min` : `${Math.round((m / 60) * 10) / 10} h`;
}

/**
 * lanes: [{ region, timeZone, windows: [{ startAt, endAt }], notices: [{ at, label, given }],
 *           proxies: [{ name, from, drainedAt?, to?, deadline?, step, text }] }] (times in ms);
 * now: the controller's time, a line on the axis.
 */
export function timeline(lanes, now, caption) {
  const finite = (ts) => ts.filter((t) => Number.isFinite(t));
  const events = finite(lanes.flatMap((l) => [...l.notices.map((n) => n.at), ...l.proxies.flatMap((p) => [p.from, p.to, p.deadline])]));
  const windows = lanes.flatMap((l) => l.windows);
  // The axis spans what happens (and now); a window open for days is cut at its edges, not drawn whole.
  const times = events.length ? [...events, ...finite(windows.map((w) => w.startAt)).filter((t) => t <= Math.max(...events))] : finite(windows.flatMap((w) => [w.startAt, w.endAt]));
  if (now !== undefined) times.push(now);
  if (!times.length) return '';
  const pad = (Math.max(...times) - Math.min(...times)) * 0.03;
  const t0 = Math.min(...times) - pad;
  const t1 = Math.max(t0 + 60000, Math.max(...times) + pad);
  const x = (t) => LABEL + ((Math.min(t1, Math.max(t0, t)) - t0) / (t1 - t0)) * (W - LABEL - 8);
  let y = 16;
  const marks = [];
  for (const lane of lanes) {
    const top = y;
    const height = ROW * Math.max(1, lane.proxies.length) + 10;
    marks.push(s('text', { x: 2, y: top + 10, class: 'lane-name' }, lane.region));
    for (const w of lane.windows) marks.push(s('rect', { class: 'window', x: x(w.startAt), y: top, width: Math.max(1, x(w.endAt) - x(w.startAt)), height }, s('title', {}, `${lane.region} maintenance window ${both(w.startAt, lane.timeZone)} – ${both(w.endAt, lane.timeZone)}`)));
    for (const n of lane.notices) marks.push(s('path', { class: n.given ? 'notice given' : 'notice', d: `M${x(n.at)} ${top}l-3 -5h6z` }, s('title', {}, `${n.label}: ${both(n.at, lane.timeZone)}`)));
    lane.proxies.forEach((p, i) => {
      const py = top + 5 + i * ROW;
      if (!Number.isFinite(p.from)) return;
      const end = Number.isFinite(p.to) ? p.to : (now ?? p.from);
      marks.push(s('rect', { class: `bar s-${p.step}`, x: x(p.from), y: py, width: Math.max(2, x(end) - x(p.from)), height: ROW - 3 }, s('title', {}, `${p.name}: ${p.text}`)));
      if (Number.isFinite(p.drainedAt)) marks.push(s('line', { class: 'drained', x1: x(p.drainedAt), x2: x(p.drainedAt), y1: py, y2: py + ROW - 3 }));
      if (Number.isFinite(p.deadline)) marks.push(s('line', { class: 'deadline', x1: x(p.deadline), x2: x(p.deadline), y1: py - 1, y2: py + ROW - 2 }, s('title', {}, `${p.name}: drain deadline ${both(p.deadline, lane.timeZone)}`)));
      marks.push(s('text', { x: Math.min(x(end) + 3, W - 60), y: py + ROW - 4, class: 'bar-name' }, p.name));
    });
    y += height + 8;
  }
  if (now !== undefined) marks.push(s('line', { class: 'now', x1: x(now), x2: x(now), y1: 8, y2: y - 4 }), s('text', { x: x(now) + 2, y: 8, class: 'now-label' }, 'now'));
  const axis = [s('text', { x: LABEL, y: y + 8, class: 'axis' }, utcMinute(t0)), s('text', { x: W - 8, y: y + 8, class: 'axis end' }, utcMinute(t1))];
  return h(
    'figure',
    { class: 'timeline' },
    s('svg', { viewBox: `0 0 ${W} ${y + 12}`, role: 'img', 'aria-label': caption }, marks, axis),
    h('figcaption', { class: 'muted' }, `${caption}: maintenance windows shaded, notices ▼ (filled when given), each proxy from out of rotation to back in the colour of its step (a dark tick when drained), its drain deadline as a red tick; ${duration(t1 - t0)} from ${utcMinute(t0)}.`),
  );
}

/** Each lane in words: what the picture shows, readable without it (folded: the picture comes first). */
export function laneList(lanes) {
  const lane = (l) =>
    h(
      'div',
      { class: 'lane', 'data-region': l.region },
      h('h4', {}, `${l.region} `, h('span', { class: 'muted' }, `(${l.timeZone ?? 'time zone unknown'})`)),
      h(
        'ul',
        {},
        l.windows.map((w) => h('li', {}, `Window ${both(w.startAt, l.timeZone)} – ${both(w.endAt, l.timeZone)}${w.note ? ` (${w.note})` : ''}`)),
        l.notices.map((n) => h('li', {}, `${n.label} ${n.given ? 'given' : 'due'} ${both(n.at, l.timeZone)}`)),
        l.proxies.map((p) => h('li', { 'data-proxy': p.name }, h('strong', {}, p.name), ' ', badge(p.step, words(p.step)), ` ${p.text}`)),
      ),
    );
  return h('details', { class: 'lanes-box' }, h('summary', {}, 'Each region in words (local time and UTC)'), h('div', { class: 'lanes' }, lanes.map(lane)));
}
