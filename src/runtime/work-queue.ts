import type { ResourceKey } from '../model/resource.js';
import { keyString, parseKeyString } from '../model/resource.js';
import { timerDelay } from './timer-delay.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WorkQueueOptions {
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly timers: Timers;
}

/**
 * client-go's workqueue in miniature: a key is queued at most once, a key being
 * processed is not handed out twice (a re-add while it runs is queued for after),
 * delayed adds keep only the earliest deadline, and failures back off exponentially.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly failures = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private shuttingDown = false;

  constructor(private readonly opts: WorkQueueOptions) {}

  add(key: ResourceKey): void {
    this.addString(keyString(key));
  }

  private addString(k: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(k)) {
      this.dirtyWhileProcessing.add(k);
      return;
    }
    if (this.queued.has(k)) return;
    this.queued.add(k);
    this.queue.push(k);
    const w = this.waiters.shift();
    w?.();
  }

  addAfter(key: ResourceKey, delayMs: number, now: number): void {
    const k = keyString(key);
    if (delayMs <= 0) return this.addString(k);
    // A wait beyond what a timer holds wakes early; the reconcile then asks again for the rest.
    const wait = timerDelay(delayMs);
    const at = now + wait;
    const existing = this.delayed.get(k);
    if (existing && existing.at <= at) return;
    if (existing) this.opts.timers.clearTimeout(existing.handle);
    const handle = this.opts.timers.setTimeout(() => {
      this.delayed.delete(k);
      this.addString(k);
    }, wait);
    this.delayed.set(k, { at, handle });
  }

  /** Backoff delay for the next retry of this key: base * 2^failures, capped. */
  addRateLimited(key: ResourceKey, now: number): number {
    const k = keyString(key);
    const n = this.failures.get(k) ?? 0;
    this.failures.set(k, n + 1);
    const delay = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** n);
    this.addAfter(key, delay, now);
    return delay;
  }

  forget(key: ResourceKey): void {
    this.failures.delete(keyString(key));
  }

  /** Resolves with the next key, or undefined once shut down. */
  async get(): Promise<ResourceKey | undefined> {
    while (this.queue.length === 0) {
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const k = this.queue.shift() as string;
    this.queued.delete(k);
    this.processing.add(k);
    return parseKeyString(k);
  }

  done(key: ResourceKey): void {
    const k = keyString(key);
    this.processing.delete(k);
    if (this.dirtyWhileProcessing.delete(k)) this.addString(k);
  }

  get length(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.opts.timers.clearTimeout(handle);
    this.delayed.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
