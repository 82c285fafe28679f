import type { Timers } from '../../src/runtime/work-queue.js';

/** Virtual time: timers fire in order as the test advances it, with the promises they release settled in between. */
export class VirtualTime {
  now = Date.UTC(2026, 11, 6);
  #timers: { at: number; seq: number; fn: () => void }[] = [];
  #seq = 0;
  readonly timers: Timers = {
    setTimeout: (fn, ms) => {
      const t = { at: this.now + ms, seq: this.#seq++, fn };
      this.#timers.push(t);
      return t;
    },
    clearTimeout: (h) => {
      this.#timers = this.#timers.filter((t) => t !== h);
    },
  };
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await settle();
    for (;;) {
      const next = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.now = next.at;
      next.fn();
      await settle();
    }
    this.now = end;
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

