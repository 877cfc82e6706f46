/**
 * The RTP clock of every video track is derived from the generator's capture time, so that the browser's
 * `rtpTimestamp` (from requestVideoFrameCallback metadata) names the exact frame it shows: 90 kHz ticks since
 * the Unix epoch, modulo 2^32. Two frames of one session are at least 750 ticks (1/120 s) apart, so a ring of
 * recent truths never holds two frames with the same timestamp (the clock wraps every 13.25 hours).
 */
export const RTP_VIDEO_CLOCK_HZ = 90_000;

/** The 32-bit RTP timestamp of a frame captured at `captureTimeMs` (epoch ms, see `nowMs`). */
export function rtpTimestampFromCaptureTime(captureTimeMs: number): number {
  return Math.round((captureTimeMs * RTP_VIDEO_CLOCK_HZ) / 1000) % 2 ** 32;
}
