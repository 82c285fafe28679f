import { parseDuration } from '../../model/duration.js';
import { WEEKDAYS, type MaintenanceWindow } from '../../model/fleet.js';
import { zonedInstant } from './zoned-time.js';

export interface WindowOccurrence {
  readonly startAt: number;
  readonly endAt: number;
}

const DAY_MS = 86_400_000;

/**
 * The first stretch of a maintenance window at or after `earliestMs`: an occurrence already
 * open then counts from `earliestMs` on. Occurrences are laid out in the region's own time
 * zone, so 02:00 stays 02:00 local across daylight-saving changes.
 */
export function nextWindow(windows: readonly MaintenanceWindow[], timeZone: string, earliestMs: number): WindowOccurrence | undefined {
  let best: WindowOccurrence | undefined;
  for (const w of windows) {
    const duration = parseDuration(w.duration);
    if (!duration.ok || duration.value <= 0) continue;
    const [hour, minute] = w.start.split(':').map(Number) as [number, number];
    // Start early enough to catch an occurrence that began before earliestMs and is still open.
    const lookBackDays = Math.ceil(duration.value / DAY_MS) + 1;
    for (let i = -lookBackDays; i <= 8; i++) {
      const d = new Date(earliestMs + i * DAY_MS);
      const weekday = WEEKDAYS[(d.getUTCDay() + 6) % 7];
      if (weekday === undefined || !w.days.includes(weekday)) continue;
      const startAt = zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), hour, minute, timeZone);
      const endAt = startAt + duration.value;
      if (endAt <= earliestMs) continue;
      const occurrence = { startAt: Math.max(startAt, earliestMs), endAt };
      if (!best || occurrence.startAt < best.startAt || (occurrence.startAt === best.startAt && occurrence.endAt > best.endAt)) best = occurrence;
    }
  }
  return best;
}

export function isInside(w: WindowOccurrence, atMs: number): boolean {
  return atMs >= w.startAt && atMs < w.endAt;
}
