/** Callbacks for one event; each added one stays until its signal aborts or its unsubscribe is called. */
export class Listeners<T> {
  private readonly fns = new Set<(value: T) => void>();

  add(fn: (value: T) => void, signal?: AbortSignal): () => void {
    const remove = (): void => void this.fns.delete(fn);
    if (signal?.aborted) return remove;
    this.fns.add(fn);
    signal?.addEventListener('abort', remove, { once: true });
    return remove;
  }

  emit(value: T): void {
    for (const fn of [...this.fns]) fn(value);
  }
}
