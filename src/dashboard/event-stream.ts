import type { Frame, FrameFeed } from './frame-publisher.js';

/** The part of a ServerResponse an event stream writes to. */
export interface EventSink {
  write(chunk: string | Uint8Array): boolean;
  readonly destroyed: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  destroy(): void;
}

/** Calls `beat` at the heartbeat interval until the returned stop is called. */
export type Heartbeat = (beat: () => void) => () => void;

export const HEARTBEAT_MS = 15_000;
/** EventSource waits this long before it reconnects (the `retry:` field). */
export const RETRY_MS = 3_000;

export const intervalHeartbeat: Heartbeat = (beat) => {
  const t = setInterval(beat, HEARTBEAT_MS);
  return () => clearInterval(t);
};

export interface EventStream {
  /** Frames waiting for the socket to drain: at most one per feed. */
  readonly backlog: number;
  readonly closed: boolean;
  close(): void;
  onClosed(fn: () => void): void;
}

/**
 * One client's Server-Sent Events stream of the frames pushed to every client, the newest of each
 * feed as soon as it connects. Frames that come in a burst, or while the socket is still full,
 * wait: only the newest of each feed (the same bytes every other client holds), so a slow client
 * costs a bounded amount of memory; a client whose socket stays full for a whole heartbeat
 * interval is closed (its page reconnects and gets the newest of each again).
 */
export function openEventStream(out: EventSink, frames: readonly FrameFeed[], heartbeat: Heartbeat = intervalHeartbeat): EventStream {
  // The newest frame of each feed not written yet.
  const waiting = new Map<FrameFeed, Frame>();
  const closedFns: (() => void)[] = [];
  let closed = false;
  let draining = false;
  let flushScheduled = false;
  let stalledBeats = 0;

  const write = (chunk: string | Uint8Array): void => {
    if (out.write(chunk) || draining) return;
    draining = true;
    out.once('drain', () => {
      draining = false;
      stalledBeats = 0;
      flush();
    });
  };
  const flush = (): void => {
    flushScheduled = false;
    if (closed || draining) return;
    for (const frame of waiting.values()) write(frame);
    waiting.clear();
  };
  // One flush per burst: the controller publishes a pass's changes synchronously.
  const scheduleFlush = (): void => {
    if (flushScheduled || draining) return;
    flushScheduled = true;
    setImmediate(flush);
  };
  const take = (from: FrameFeed, frame: Frame | undefined): void => {
    if (!frame) return;
    waiting.set(from, frame);
    scheduleFlush();
  };
  const unsubscribes = frames.map((f) => {
    take(f, f.current());
    return f.subscribe((frame) => take(f, frame));
  });
  const stopBeat = heartbeat(() => {
    if (!draining) return write(': ping\n\n');
    if (++stalledBeats >= 2) stream.close();
  });
  const stream: EventStream = {
    get backlog() {
      return waiting.size;
    },
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const u of unsubscribes) u();
      waiting.clear();
      stopBeat();
      if (!out.destroyed) out.destroy();
      for (const fn of closedFns) fn();
    },
    onClosed(fn) {
      if (closed) fn();
      else closedFns.push(fn);
    },
  };
  out.once('close', () => stream.close());
  write(`retry: ${RETRY_MS}\nevent: hello\ndata: ${JSON.stringify({ heartbeatMs: HEARTBEAT_MS })}\n\n`);
  return stream;
}
