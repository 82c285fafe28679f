import { TOPICS, type Change, type Topic } from './change-feed.js';

/** More keys than this for one topic, and the notice says "all of it" instead: the page refetches whole lists anyway. */
export const KEYS_PER_TOPIC = 16;

/** One pending notice per topic: the keys that changed, or 'all'. */
export interface Notice {
  readonly topic: Topic;
  /** Absent: anything of the topic may have changed. */
  readonly keys?: readonly string[];
}

/**
 * The notices one event-stream client has not been sent yet, coalesced per topic: however many
 * changes arrive while its socket is busy, it holds at most one entry per topic and
 * KEYS_PER_TOPIC keys in each.
 */
export class NoticeQueue {
  private readonly pending = new Map<Topic, Set<string> | 'all'>();

  add(change: Change): void {
    const held = this.pending.get(change.topic);
    if (held === 'all') return;
    if (change.key === undefined) return void this.pending.set(change.topic, 'all');
    const keys = held ?? new Set<string>();
    keys.add(change.key);
    this.pending.set(change.topic, keys.size > KEYS_PER_TOPIC ? 'all' : keys);
  }

  /** Pending notices in topic order; the queue is empty afterwards. */
  take(): Notice[] {
    const out: Notice[] = [];
    for (const topic of TOPICS) {
      const held = this.pending.get(topic);
      if (held === undefined) continue;
      out.push(held === 'all' ? { topic } : { topic, keys: [...held].sort() });
    }
    this.pending.clear();
    return out;
  }

  /** Keys held, counting an 'all' as one: what a slow client costs. */
  get weight(): number {
    let n = 0;
    for (const held of this.pending.values()) n += held === 'all' ? 1 : held.size;
    return n;
  }
}
