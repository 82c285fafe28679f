import { setTimeout as sleep } from 'node:timers/promises';
import type { CliIo } from './io.js';

/** `--watch`: shows again every interval until Ctrl-C, clearing the screen for text output. */
export async function watchLoop(io: CliIo, opts: { readonly intervalMs: number; readonly clear: boolean }, show: () => Promise<void>): Promise<number> {
  const stop = new AbortController();
  void io.untilStopped().then(() => stop.abort());
  while (!stop.signal.aborted) {
    if (opts.clear) io.out('\x1b[2J\x1b[H');
    await show().catch((e: unknown) => io.err(e instanceof Error ? e.message : String(e)));
    await sleep(opts.intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  return 0;
}
