/** The acting instance's work for one term: started when leadership is gained; returns what stops it. */
export type TermWork = (term: AbortSignal) => Promise<() => Promise<void>>;

/**
 * Who acts. Every instance observes, routes and serves; only the leader runs work queues,
 * reconcilers, hooks, notices and status writes. Each job hands its acting part to `run`, once:
 * the work starts whenever this instance gains leadership, and when it loses it the term signal
 * aborts and the work's stop is awaited, so nothing of that term acts after. `run` resolves with
 * what ends it for good (the instance shuts down). A Kubernetes Lease implements the same port.
 */
export interface Leadership {
  run(work: TermWork): Promise<() => Promise<void>>;
}

/** One instance, the only one: it leads from the start, in one term that ends when it stops. */
export const standaloneLeadership: Leadership = {
  async run(work) {
    const term = new AbortController();
    const stop = await work(term.signal);
    return async () => {
      term.abort();
      await stop();
    };
  },
};
