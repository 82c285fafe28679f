import type { ChangeFeed } from './change-feed.js';
import { NoticeQueue, type Notice } from './notice-queue.js';

/** The part of a ServerResponse an event stream writes to. */
export interface EventSink {
  write(chunk: string): boolean;
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
  /** Notices waiting for the socket to drain (bounded: see NoticeQueue). */
  readonly backlog: number;
  readonly closed: boolean;
  close(): void;
  onClosed(fn: () => void): void;
}

function noticeEvent(n: Notice): string {
  return `event: change\ndata: ${JSON.stringify(n)}\n\n`;
}

/**
 * One client's Server-Sent Events stream of change notices. Notices that arrive in a burst, or
 * while the socket is still full, wait in a NoticeQueue (one per topic), so a slow client costs a
 * bounded amount of memory; a client whose socket stays full for a whole heartbeat interval is
 * closed (its EventSource reconnects and the page refetches everything).
 */
export function openEventStream(out: EventSink, feed: ChangeFeed, heartbeat: Heartbeat = intervalHeartbeat): EventStream {
  const queue = new NoticeQueue();
  const closedFns: (() => void)[] = [];
  let closed = false;
  let draining = false;
  let flushScheduled = false;
  let stalledBeats = 0;

  const write = (chunk: string): void => {
    if (out.write(chunk)) return;
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
    const notices = queue.take();
    if (notices.length) write(notices.map(noticeEvent).join(''));
  };
  const unsubscribe = feed.subscribe((change) => {
    queue.add(change);
    // One write per burst: the controller publishes a pass's changes synchronously.
    if (!flushScheduled && !draining) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });
  const stopBeat = heartbeat(() => {
    if (!draining) return write(': ping\n\n');
    if (++stalledBeats >= 2) stream.close();
  });
  const stream: EventStream = {
    get backlog() {
      return queue.weight;
    },
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      unsubscribe();
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
