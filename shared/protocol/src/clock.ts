/**
 * The one clock every ballstream process uses: milliseconds since the Unix epoch with sub-millisecond
 * resolution. `performance.timeOrigin + performance.now()` is monotonic within a process and comparable across
 * processes (and workers) on one machine; across machines it is as good as their NTP sync.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
