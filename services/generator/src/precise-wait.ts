/**
 * Waking up on time inside a session's worker. Bun's timers have about 1 ms granularity (measured here: a
 * `setTimeout` fires up to ~0.4 ms early or ~1 ms late), so a frame timer alone misses its slot by ~1 ms. Instead
 * the timer is armed {@link TIMER_LEAD_MS} early and the rest of the wait is a blocking `Atomics.wait` with a
 * sub-millisecond timeout, which sleeps in the kernel (no CPU burnt) and overshoots by ~0.1 ms.
 */

/** How long before a frame's slot the timer is armed to fire. */
export const TIMER_LEAD_MS = 2;

/** The next step towards a deadline: arm a timer, block the thread briefly, or act now. */
export type WaitStep =
  | { readonly kind: "timer"; readonly ms: number }
  | { readonly kind: "block"; readonly ms: number }
  | { readonly kind: "due" };

/**
 * Plans the wait for a deadline `remainingMs` away: beyond `leadMs`, a timer that fires `leadMs` early; within
 * it, a block of exactly the remaining time (never longer than `leadMs`); at or past it, nothing.
 */
export function planWait(remainingMs: number, leadMs: number = TIMER_LEAD_MS): WaitStep {
  if (!(remainingMs > 0)) return { kind: "due" };
  if (remainingMs <= leadMs) return { kind: "block", ms: remainingMs };
  return { kind: "timer", ms: remainingMs - leadMs };
}

const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for `ms` (sub-millisecond precision) without spinning. Meant for workers only. */
export function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
}
