import { s } from './dom.js';

const W = 120;
const H = 24;

/**
 * Sessions over the history's window as an inline SVG line (gaps where the load was unknown),
 * with the range in words for those who cannot see it.
 */
export function sparkline(series, history) {
  if (!series || !history?.latestAt) return '';
  const end = Date.parse(history.latestAt);
  const start = end - history.windowMs;
  const known = series.points.filter((p) => p.sessions !== null);
  if (!known.length) return '';
  const high = Math.max(...known.map((p) => p.sessions));
  const low = Math.min(...known.map((p) => p.sessions));
  const max = Math.max(1, high);
  const x = (at) => (((Date.parse(at) - start) / history.windowMs) * W).toFixed(1);
  const y = (n) => (H - 1 - (n / max) * (H - 2)).toFixed(1);
  // One path, a new subpath after each gap.
  let d = '';
  let pen = 'M';
  for (const p of series.points) {
    if (p.sessions === null) {
      pen = 'M';
      continue;
    }
    d += `${pen}${x(p.at)} ${y(p.sessions)}`;
    pen = 'L';
  }
  const last = known[known.length - 1];
  const label = `Sessions over the last ${Math.round(history.windowMs / 60000)} min: ${low} to ${high}, now ${last.sessions}`;
  return s(
    'svg',
    { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label, 'data-points': series.points.length },
    s('title', {}, label),
    s('path', { d }),
    s('circle', { cx: x(last.at), cy: y(last.sessions), r: 1.8 }),
  );
}
