/**
 * What the browser says about a presented frame besides its presentation time, as epoch ms so that each compares
 * with our capture time (the RTP timestamp, shared/protocol rtp-time.ts): when it expects the frame to be visible
 * (`requestVideoFrameCallback` `expectedDisplayTime`), and when the frame was captured by the browser's own account:
 * rVFC `captureTime` (Chromium: the sender's NTP time from RTCP sender reports, once it knows the round trip) and the
 * abs-capture-time header extension (`RTCRtpReceiver.getSynchronizationSources()` `captureTimestamp`). docs/web.md
 * "Glass-to-glass: three clocks" says what each includes, measured.
 */

/** A presented frame's times (epoch ms; null: the browser did not say). */
export interface Presentation {
  /** When the frame was handed to the compositor (rVFC `presentationTime`; WebTransport: painted). */
  readonly presentedAtMs: number;
  /** When the browser expects it to be visible (rVFC `expectedDisplayTime`). */
  readonly expectedDisplayMs: number | null;
  /** Its capture time by rVFC `captureTime`. */
  readonly rvfcCaptureMs: number | null;
  /** Its capture time by abs-capture-time (the receiver's synchronization source for its RTP timestamp). */
  readonly absCaptureMs: number | null;
}

/** The rVFC metadata {@link presentationOf} reads (performance-timeline times, ms after `timeOrigin`). */
export interface FrameCallbackTimes {
  readonly presentationTime: number;
  readonly expectedDisplayTime?: number;
  readonly captureTime?: number;
}

/** A frame's presentation from its rVFC metadata (no abs-capture-time yet); `timeOrigin` turns the page's timeline into epoch ms. */
export function presentationOf(metadata: FrameCallbackTimes, timeOrigin: number): Presentation {
  const epoch = (t: number | undefined) => (t === undefined ? null : timeOrigin + t);
  return { presentedAtMs: timeOrigin + metadata.presentationTime, expectedDisplayMs: epoch(metadata.expectedDisplayTime), rvfcCaptureMs: epoch(metadata.captureTime), absCaptureMs: null };
}

/** A frame painted at `paintedAtMs` by the page itself (the WebTransport path): no other browser times. */
export function paintedAt(paintedAtMs: number): Presentation {
  return { presentedAtMs: paintedAtMs, expectedDisplayMs: null, rvfcCaptureMs: null, absCaptureMs: null };
}

/** Milliseconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_MS = 2_208_988_800_000;

/** The part of an `RTCRtpSynchronizationSource` that {@link absCaptureMsOf} reads (`captureTimestamp`: NTP ms). */
export interface SourceTimes {
  readonly rtpTimestamp: number;
  readonly captureTimestamp?: number;
}

/**
 * The abs-capture-time of the frame `rtpTimestamp` in epoch ms, from the receiver's synchronization sources (they
 * hold only the newest frame of each: null once a later one arrived, or without the extension). Chromium gives the
 * sender's NTP time in whole ms, so it is within 0.5 ms of the capture time sent.
 */
export function absCaptureMsOf(sources: readonly SourceTimes[], rtpTimestamp: number): number | null {
  const source = sources.find((s) => s.rtpTimestamp === rtpTimestamp && s.captureTimestamp !== undefined);
  return source ? source.captureTimestamp! - NTP_UNIX_OFFSET_MS : null;
}
