/** Faults a test can put on one proxy's diagnostic address. */
export const FAULT_MODES = [
  'none',
  'slow',
  'garbage',
  'oversized',
  'wrong_content_type',
  'http_500',
  'degraded',
  'recovering',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Fault {
  readonly mode: FaultMode;
  /** Real milliseconds every response waits (mode `slow` only). */
  readonly delayMs?: number;
}

export const NO_FAULT: Fault = Object.freeze({ mode: 'none' });
export const DEFAULT_SLOW_DELAY_MS = 2_000;
export const MAX_SLOW_DELAY_MS = 600_000;
/** "Several MB": well past any sane scrape limit, cheap to serve from one buffer. */
export const OVERSIZED_PAGE_BYTES = 6 * 1024 * 1024;

/** Degraded and recovering are states of the process, so a restart clears them; faults on the network path stay. */
export function faultAfterRestart(fault: Fault): Fault {
  return fault.mode === 'degraded' || fault.mode === 'recovering' ? NO_FAULT : fault;
}

/** Looks like metrics but breaks the exposition format in several ways (unclosed labels, words as values). */
export const GARBAGE_PAGE = [
  '# HELP proxy_ssh_sessions_total Number of active sessions through this proxy',
  '# TYPE proxy_ssh_sessions_total gauge',
  'proxy_ssh_sessions_total{ forty-two',
  'process_state ok',
  'teleport_build_info{version="17.4.2" 1 2 3',
  '\u0000\u0001\u0002 <<binary noise>> \u00ff\u00fe',
  '',
].join('\n');

/** What a misrouted scrape gets back from a load balancer or login page. */
export const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Teleport</title></head><body><h1>Sign in</h1><p>You need to sign in to continue.</p></body></html>\n';

/** Shared, lazily built filler for `oversized` pages, so a scrape costs no more than a copy. */
export class FaultPages {
  private padding: Buffer | undefined;

  /** Valid exposition lines (comments), so only the size is wrong. */
  oversizedPadding(): Buffer {
    if (!this.padding) {
      const line = '# padding: this proxy serves an oversized metrics page (simulated fault) ..........................\n';
      this.padding = Buffer.from(line.repeat(Math.ceil(OVERSIZED_PAGE_BYTES / line.length)));
    }
    return this.padding;
  }
}
