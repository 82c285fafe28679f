/** What a start has opened so far, closed newest first: on stop, or when a later step of the start fails. */
export class Closers {
  private fns: (() => Promise<void> | void)[] = [];

  add(...fns: (() => Promise<void> | void)[]): void {
    this.fns.push(...fns);
  }

  /** Closes everything added, once. */
  readonly close = async (): Promise<void> => {
    for (const fn of this.fns.splice(0).reverse()) await fn();
  };

  /** Runs a start; if it throws, closes what it opened and throws on. */
  async guard<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (e) {
      await this.close();
      throw e;
    }
  }
}
