// Collects what client-node's Watch delivers, and lets a test wait for a condition on it.
import type { Watch } from '@kubernetes/client-node';

export interface Received {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string; kind?: string; [key: string]: unknown };
}

export interface Collected {
  events: Received[];
  /** Resolves when the stream is over, with the error client-node reported (null: ended cleanly). */
  done: Promise<unknown>;
  until(what: string, check: (events: Received[]) => boolean): Promise<void>;
  stop(): void;
}

export async function collect(watch: Watch, path: string, query: Record<string, string | number | boolean>): Promise<Collected> {
  const events: Received[] = [];
  const waiters = new Set<() => void>();
  let finish: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => (finish = resolve));
  let ended = false;
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  const controller = await watch.watch(
    path,
    query,
    (type, object) => {
      events.push({ type, object: object as Received['object'] });
      poke();
    },
    (err) => {
      ended = true;
      finish(err);
      poke();
    },
  );
  return {
    events,
    done,
    until: (what, check) =>
      new Promise<void>((resolve, reject) => {
        const test = (): void => {
          if (check(events)) {
            waiters.delete(test);
            resolve();
          } else if (ended) {
            waiters.delete(test);
            reject(new Error(`watch ended before ${what}; got ${JSON.stringify(events.map((e) => e.type))}`));
          }
        };
        waiters.add(test);
        test();
      }),
    stop: () => controller.abort(),
  };
}
