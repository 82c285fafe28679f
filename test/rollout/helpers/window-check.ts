import type { MaintenanceWindow } from '../../../src/model/fleet.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * An independent check that an instant falls inside a maintenance window: the local wall clock
 * from Intl, compared with each window start on the days before it. It counts wall-clock time,
 * so it is exact away from daylight-saving changes (the tests stay away from them).
 */
export function insideWindow(windows: readonly MaintenanceWindow[], timeZone: string, atMs: number): boolean {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(atMs)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(Number(parts['year']), Number(parts['month']) - 1, Number(parts['day']), Number(parts['hour']), Number(parts['minute']), Number(parts['second']));
  return windows.some((w) => {
    const [h, m] = w.start.split(':').map(Number);
    const durationMs = durationOf(w.duration);
    for (let back = 0; back <= Math.ceil(durationMs / 86_400_000) + 1; back++) {
      const day = new Date(wall - back * 86_400_000);
      const start = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), h ?? 0, m ?? 0);
      if (w.days.includes(DAYS[new Date(start).getUTCDay()] as MaintenanceWindow['days'][number]) && wall >= start && wall < start + durationMs) return true;
    }
    return false;
  });
}

function durationOf(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const [, n, u] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(n) * (units[u ?? ''] ?? 0);
  return total;
}
