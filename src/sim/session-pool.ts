import { SESSION_KINDS, type SessionCounts, type SessionKind } from '../model/snapshot.js';
import { MinHeap } from './min-heap.js';

/** Live sessions of one proxy, kept only as end times per kind: counting is all a proxy reports. */
export class SessionPool {
  private readonly ends: Readonly<Record<SessionKind, MinHeap>> = {
    ssh: new MinHeap(),
    kube_exec: new MinHeap(),
    kube_portforward: new MinHeap(),
    kube_join: new MinHeap(),
    db: new MinHeap(),
  };

  add(kind: SessionKind, endAt: number): void {
    this.ends[kind].push(endAt);
  }

  count(kind: SessionKind): number {
    return this.ends[kind].size;
  }

  total(): number {
    let n = 0;
    for (const kind of SESSION_KINDS) n += this.ends[kind].size;
    return n;
  }

  counts(): SessionCounts {
    const e = this.ends;
    return {
      ssh: e.ssh.size,
      kube_exec: e.kube_exec.size,
      kube_portforward: e.kube_portforward.size,
      kube_join: e.kube_join.size,
      db: e.db.size,
    };
  }

  /** Ends every session due at or before `at`; returns the latest end time removed, or -Infinity. */
  expireUntil(at: number): number {
    let latest = -Infinity;
    for (const kind of SESSION_KINDS) {
      const heap = this.ends[kind];
      for (let top = heap.peek(); top !== undefined && top <= at; top = heap.peek()) {
        heap.pop();
        if (top > latest) latest = top;
      }
    }
    return latest;
  }

  /** Ends every session at once (SIGTERM); returns how many were cut. */
  cutAll(): number {
    let n = 0;
    for (const kind of SESSION_KINDS) n += this.ends[kind].clear();
    return n;
  }
}
