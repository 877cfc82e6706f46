/**
 * Rates between two `getStats()` summaries of the same receiving stream (the page polls once a second, so these are
 * the figures of the last second). Counters that went backwards (a new stream) or no time between the reports give
 * null, never a negative or infinite rate.
 */

/** The cumulative counters a rate is taken from (a subset of `InboundStats`). */
export interface StatsCounters {
  /** When the browser took the report, epoch ms (null: no inbound stream yet). */
  readonly timestampMs: number | null;
  /** RTP payload bytes received. */
  readonly bytesReceived: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  /** Sum of the jitter buffer delays of the emitted frames, ms. */
  readonly jitterBufferDelaySumMs: number;
  readonly jitterBufferEmittedCount: number;
}

/** Figures over the interval between two reports. */
export interface IntervalRates {
  /** Payload bitrate received, kbit/s (null also when the interval has no duration, as from the empty summary). */
  readonly bitrateKbps: number | null;
  /** Lost of the packets expected in the interval, %. */
  readonly recentLossPct: number | null;
  /** Mean jitter buffer delay of the frames emitted in the interval, ms. */
  readonly jitterBufferDelayMs: number | null;
}

/** Lost of all packets expected (received + lost), % (null: none expected); negative loss (duplicates) counts as 0. */
export function lossPercent(received: number, lost: number): number | null {
  const expected = received + Math.max(0, lost);
  return expected > 0 ? (100 * Math.max(0, lost)) / expected : null;
}

/** The figures between `previous` and `next` (null each where the interval says nothing). */
export function intervalRates(previous: StatsCounters, next: StatsCounters): IntervalRates {
  const ms = previous.timestampMs !== null && next.timestampMs !== null ? next.timestampMs - previous.timestampMs : 0;
  const delta = (k: keyof Omit<StatsCounters, "timestampMs">) => next[k] - previous[k];
  const bytes = delta("bytesReceived");
  const received = delta("packetsReceived");
  const emitted = delta("jitterBufferEmittedCount");
  if (bytes < 0 || received < 0 || emitted < 0) return { bitrateKbps: null, recentLossPct: null, jitterBufferDelayMs: null };
  return {
    bitrateKbps: ms > 0 ? (8 * bytes) / ms : null,
    recentLossPct: lossPercent(received, delta("packetsLost")),
    jitterBufferDelayMs: emitted > 0 ? delta("jitterBufferDelaySumMs") / emitted : null,
  };
}
