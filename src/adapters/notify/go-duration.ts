import { parseDuration } from '../../model/duration.js';
import { err, ok, type Result } from '../../model/result.js';

/**
 * Our duration ("4h", "1h30m", "2d") as Go's time.ParseDuration reads it, for `tctl --ttl`:
 * Go knows no days, so the value is spelled in hours, minutes and seconds ("48h0m0s"),
 * rounded up to a whole second.
 */
export function goDuration(text: string): Result<string, string> {
  const ms = parseDuration(text);
  if (!ms.ok) return ms;
  if (ms.value <= 0) return err(`"${text}" is not a positive duration`);
  const s = Math.ceil(ms.value / 1000);
  return ok(`${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m${s % 60}s`);
}
