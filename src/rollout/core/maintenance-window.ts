import { parseDuration } from '../../model/duration.js';
import { WEEKDAYS, type MaintenanceWindow } from '../../model/fleet.js';
import { isOnLocalDate, zonedInstant } from './zoned-time.js';

export interface WindowOccurrence {
  readonly startAt: number;
  readonly endAt: number;
}

const DAY_MS = 86_400_000;

/**
 * The first stretch of maintenance window at or after `earliestMs`: an occurrence already open
 * then counts from `earliestMs` on, and occurrences that touch or overlap (every day 00:00 for
 * 24h) are one window. Occurrences are laid out in the region's own time zone, so 02:00 stays
 * 02:00 local across daylight-saving changes.
 */
export function nextWindow(windows: readonly MaintenanceWindow[], timeZone: string, earliestMs: number): WindowOccurrence | undefined {
  const occurrences = windows.flatMap((w) => occurrencesAround(w, timeZone, earliestMs)).sort((a, b) => a.startAt - b.startAt);
  let best: { startAt: number; endAt: number } | undefined;
  for (const o of occurrences) {
    if (best && o.startAt <= best.endAt) best.endAt = Math.max(best.endAt, o.endAt);
    else if (best) break;
    else if (o.endAt > earliestMs) best = { startAt: Math.max(o.startAt, earliestMs), endAt: o.endAt };
  }
  return best;
}

/** A window's occurrences from a little before `earliestMs` to eight days after it. */
function occurrencesAround(w: MaintenanceWindow, timeZone: string, earliestMs: number): WindowOccurrence[] {
  const duration = parseDuration(w.duration);
  if (!duration.ok || duration.value <= 0) return [];
  const [hour, minute] = w.start.split(':').map(Number) as [number, number];
  // Start early enough to catch an occurrence that began before earliestMs and is still open.
  const lookBackDays = Math.ceil(duration.value / DAY_MS) + 1;
  const out: WindowOccurrence[] = [];
  for (let i = -lookBackDays; i <= 8; i++) {
    const d = new Date(earliestMs + i * DAY_MS);
    const weekday = WEEKDAYS[(d.getUTCDay() + 6) % 7];
    if (weekday === undefined || !w.days.includes(weekday)) continue;
    const startAt = startOnDate(d, hour, minute, timeZone);
    if (startAt !== undefined) out.push({ startAt, endAt: startAt + duration.value });
  }
  return out;
}

/**
 * The instant `hh:mm` names on the local date of `d` (read as a UTC calendar date), or undefined when
 * that time lands on another date: the zone skipped the date (Pacific/Apia had no 2011-12-30), and a
 * weekly window must not slide onto the next weekday.
 */
function startOnDate(d: Date, hour: number, minute: number, timeZone: string): number | undefined {
  const [year, month, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
  const startAt = zonedInstant(year, month, day, hour, minute, timeZone);
  return isOnLocalDate(startAt, year, month, day, timeZone) ? startAt : undefined;
}

export function isInside(w: WindowOccurrence, atMs: number): boolean {
  return atMs >= w.startAt && atMs < w.endAt;
}
