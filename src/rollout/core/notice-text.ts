import { formatLocal, formatUtc } from './zoned-time.js';

export interface NoticeFields {
  readonly proxies: readonly string[];
  /** The region's display name, else its name. */
  readonly region: string;
  readonly version: string;
  readonly windowStartAt: number;
  readonly timeZone: string;
  readonly leadTime: string;
  readonly rollout: string;
}

/** Fills a notice template; unknown `{words}` stay as written so a typo shows in the message, not as a blank. */
export function renderNotice(template: string, f: NoticeFields): string {
  const values: Readonly<Record<string, string>> = {
    proxies: f.proxies.join(', '),
    region: f.region,
    version: f.version,
    localTime: formatLocal(f.windowStartAt, f.timeZone),
    utcTime: formatUtc(f.windowStartAt),
    leadTime: f.leadTime,
    rollout: f.rollout,
  };
  return template.replace(/\{(\w+)\}/g, (whole, word: string) => values[word] ?? whole);
}
