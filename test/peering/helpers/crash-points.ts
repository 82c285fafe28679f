import type { Kind } from '../../../src/model/kinds.js';
import type { StatusOf } from '../../../src/model/store.js';
import { MemoryStore } from '../../helpers/memory-store.js';

export class Crash extends Error {}

/**
 * Numbered points where the "process" may die: before and after every status write and every
 * outside change. `at` is the point to die at (Infinity: never); `after` dies once it is done.
 */
export class CrashPoints {
  count = 0;
  crashes = 0;
  /** At each point a crash could be made, before the work and after it. */
  atCrashPoint: (after: boolean) => void = () => undefined;

  constructor(
    private readonly at = Infinity,
    private readonly after = false,
  ) {}

  async around<T>(work: () => Promise<T>): Promise<T> {
    this.count++;
    const here = this.count === this.at;
    this.atCrashPoint(false);
    if (here && !this.after) this.die('before');
    const r = await work();
    this.atCrashPoint(true);
    if (here && this.after) this.die('after');
    return r;
  }

  private die(when: string): never {
    this.crashes++;
    throw new Crash(`crash ${when} point ${this.count}`);
  }
}

/** A store whose status writes are crash points. */
export class CrashingStore extends MemoryStore {
  constructor(private readonly points: CrashPoints) {
    super();
  }

  override updateStatus<K extends Kind>(kind: K, namespace: string, name: string, status: StatusOf<K>): Promise<void> {
    return this.points.around(() => super.updateStatus(kind, namespace, name, status));
  }
}
