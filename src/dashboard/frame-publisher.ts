/** A Server-Sent Event serialized once and written as the same bytes to every open stream. */
export type Frame = Uint8Array;

/** Where event streams get a pushed view: the newest frame, and each new one. */
export interface FrameFeed {
  /** The newest frame built; undefined before the first. */
  current(): Frame | undefined;
  /** Called with each new frame; returns an unsubscribe. A subscriber arriving while the frame is out of date starts a build. */
  subscribe(listener: (frame: Frame) => void): () => void;
}

export interface FramePublisher extends FrameFeed {
  /** What the frame shows changed: it is rebuilt once after this turn (however many calls), and only while someone listens. */
  invalidate(): void;
  /** Frames built so far. */
  readonly builds: number;
  /** Subscribers now (open streams). */
  readonly listeners: number;
}

const encoder = new TextEncoder();

/**
 * One view pushed to every open dashboard: built (and serialized) once per change, not once per
 * client, so 50 open pages cost one build and 50 writes of the same bytes. Builds never overlap:
 * a change during a build makes one more after it.
 */
export function createFramePublisher(event: string, build: () => Promise<unknown>, onError: (e: unknown) => void): FramePublisher {
  const listeners = new Set<(frame: Frame) => void>();
  let frame: Frame | undefined;
  let sent: string | undefined;
  let stale = true;
  let scheduled = false;
  let building = false;
  let builds = 0;

  const run = async (): Promise<void> => {
    scheduled = false;
    if (!stale || listeners.size === 0) return;
    stale = false;
    building = true;
    try {
      const text = `event: ${event}\ndata: ${JSON.stringify(await build())}\n\n`;
      builds++;
      // A change that leaves the view as it was (a status rewritten the same) is not sent again.
      if (text !== sent) {
        sent = text;
        frame = encoder.encode(text);
        for (const l of [...listeners]) l(frame);
      }
    } catch (e) {
      onError(e);
    } finally {
      building = false;
      if (stale) schedule();
    }
  };
  function schedule(): void {
    if (scheduled || building || listeners.size === 0) return;
    scheduled = true;
    // After the turn: a pass publishes its changes synchronously, and the routing follows them.
    setImmediate(() => void run());
  }
  return {
    current: () => frame,
    subscribe(listener) {
      const own = (f: Frame): void => listener(f);
      listeners.add(own);
      if (stale) schedule();
      return () => void listeners.delete(own);
    },
    invalidate() {
      stale = true;
      schedule();
    },
    get builds() {
      return builds;
    },
    get listeners() {
      return listeners.size;
    },
  };
}
