/** Writers waiting for stream capacity, woken when quiche has room again or failed when the stream or connection did. */

type Waiter = { resolve: () => void; reject: (error: Error) => void };

/** The waiting writers of one connection, by stream id. */
export class WriteWaiters {
  readonly #waiting = new Map<number, Waiter[]>();

  /** Resolves once `wake` finds capacity on `streamId`; rejects when the stream or connection fails. */
  wait(streamId: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(streamId) ?? [];
      waiters.push({ resolve, reject });
      this.#waiting.set(streamId, waiters);
    });
  }

  /** Wakes the writers of every stream with capacity; `capacity` throws for a failed stream, whose writers get `failure(error)`. */
  wake(capacity: (streamId: number) => number, failure: (error: unknown) => Error): void {
    for (const [streamId, waiters] of [...this.#waiting]) {
      let ready: boolean;
      try {
        ready = capacity(streamId) > 0;
      } catch (error) {
        this.#settle(streamId, (waiter) => waiter.reject(failure(error)));
        continue;
      }
      if (ready) this.#settle(streamId, (waiter) => waiter.resolve());
    }
  }

  /** Fails the waiting writers of one stream (we reset it: it will never take more). */
  reject(streamId: number, error: Error): void {
    this.#settle(streamId, (waiter) => waiter.reject(error));
  }

  /** Fails every waiting writer (the connection is gone). */
  rejectAll(error: Error): void {
    for (const streamId of [...this.#waiting.keys()]) this.#settle(streamId, (waiter) => waiter.reject(error));
  }

  #settle(streamId: number, settle: (waiter: Waiter) => void): void {
    const waiters = this.#waiting.get(streamId) ?? [];
    this.#waiting.delete(streamId);
    for (const waiter of waiters) settle(waiter);
  }
}
