import { runLeaseElection, type LeaseElectorOptions } from '../leadership/lease-elector.js';
import type { Leadership, TermWork } from './leadership.js';

export interface LeaseLeadership {
  readonly leadership: Leadership;
  /** Ends the election: the term's work stops, then the Lease is released. */
  close(): Promise<void>;
}

interface Running {
  readonly stop: AbortController;
  readonly stopped: Promise<void>;
}

/**
 * The Leadership port over one Lease election for the whole process: every work handed to `run`
 * starts in each term this replica wins (at once, when it is handed over during one) and stops
 * when the term ends; the term's work ends when all of them have stopped. `onLeading` follows the terms.
 */
export function startLeaseLeadership(opts: Omit<LeaseElectorOptions, 'onHolder'>, onLeading: (leading: boolean) => void): LeaseLeadership {
  const works = new Set<TermWork>();
  let term: { readonly signal: AbortSignal; readonly running: Map<TermWork, Running> } | undefined;

  const begin = (work: TermWork, signal: AbortSignal, running: Map<TermWork, Running>): void => {
    // One signal per work: a job that closes stops its own work, the term's end stops all.
    const stop = new AbortController();
    const onEnd = (): void => stop.abort();
    signal.addEventListener('abort', onEnd, { once: true });
    const stopped = work(stop.signal).then(
      async (halt) => {
        await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
        await halt();
      },
      (e: unknown) => opts.log.error({ err: e }, 'Leader work failed to start'),
    );
    running.set(work, { stop, stopped: stopped.finally(() => signal.removeEventListener('abort', onEnd)) });
  };

  const stopSignal = new AbortController();
  const done = runLeaseElection(
    opts,
    async (signal) => {
      const running = new Map<TermWork, Running>();
      term = { signal, running };
      onLeading(true);
      for (const w of works) begin(w, signal, running);
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      onLeading(false);
      term = undefined;
      await Promise.all([...running.values()].map((r) => r.stopped));
    },
    stopSignal.signal,
  );

  return {
    leadership: {
      async run(work) {
        works.add(work);
        if (term && !term.signal.aborted) begin(work, term.signal, term.running);
        return async () => {
          works.delete(work);
          const r = term?.running.get(work);
          r?.stop.abort();
          await r?.stopped;
        };
      },
    },
    async close() {
      stopSignal.abort();
      await done;
    },
  };
}
