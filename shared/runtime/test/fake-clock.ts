import type { LinkClock } from "../src/link-emulator.ts";

/** A fake clock: time moves only by `advance`, which runs due timers in order. */
export class FakeClock implements LinkClock {
  time = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 0;
  now(): number {
    return this.time;
  }
  set(fn: () => void, ms: number): unknown {
    this.#timers.set(++this.#next, { at: this.time + ms, fn });
    return this.#next;
  }
  clear(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time to `to`, running each timer at its own time. */
  advance(to: number): void {
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fn();
    }
    this.time = to;
  }
}
