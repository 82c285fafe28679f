// Sessions over the last hour: fetched whole (GET /api/v1/history) on each connection, then kept
// current from the newest points each pushed fleet frame carries.

/**
 * The history with `latest`'s points added as the controller's ring adds them: one point per step
 * (a later one in the same step replaces it), none older than the window nor more than its steps,
 * a series gone once it has none.
 */
export function mergeHistory(history, latest) {
  const at = Date.parse(latest.at);
  // An older frame than the history (it was fetched after): nothing to add.
  if (history.latestAt && at < Date.parse(history.latestAt)) return history;
  const since = at - latest.windowMs;
  const step = (ms) => Math.floor(ms / latest.stepMs);
  const withPoint = (series, sessions) => {
    const points = (series?.points ?? []).filter((p) => Date.parse(p.at) >= since);
    const last = points[points.length - 1];
    if (last && step(Date.parse(last.at)) === step(at)) points[points.length - 1] = { at: latest.at, sessions };
    else points.push({ at: latest.at, sessions });
    // The ring holds one window's steps: a point in each step of a window and a bit is one too many.
    return points.slice(-Math.round(latest.windowMs / latest.stepMs));
  };
  const merge = (list, newest) => {
    const byName = new Map(list.map((s) => [s.name, { ...s, points: s.points.filter((p) => Date.parse(p.at) >= since) }]));
    for (const { sessions, ...series } of newest) byName.set(series.name, { ...series, points: withPoint(byName.get(series.name), sessions) });
    return [...byName.values()].filter((s) => s.points.length > 0).sort((a, b) => a.name.localeCompare(b.name));
  };
  return { ...history, windowMs: latest.windowMs, stepMs: latest.stepMs, latestAt: latest.at, proxies: merge(history.proxies, latest.proxies), regions: merge(history.regions, latest.regions) };
}
