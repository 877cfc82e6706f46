/**
 * Where to look for the ball in the next frame: a window around its predicted position (last position + velocity ×
 * the RTP time since), wide enough for the ball, its edge, a bounce within the interval and a safety margin; the
 * whole frame to (re)acquire it (first frames, a lost ball, a new frame size, a result that does not fit its
 * window). Pure logic of the detection worker (detect-worker.ts), which copies only the window out of the
 * `VideoFrame`: the copy and the centroid cost in proportion to the pixels read (docs/web.md, "The way back").
 */

/** An integer rectangle of a frame, px. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** What the worker remembers of the ball between frames (positions in frame px, velocity in px per second). */
export interface BallTrack {
  readonly rtpTimestamp: number;
  readonly x: number;
  readonly y: number;
  /** Null until two consecutive frames have found it. */
  readonly velocity: { readonly x: number; readonly y: number } | null;
  /** Coverage area of the last detection, px². */
  readonly area: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
}

/** A detection as the window logic needs it (frame coordinates). */
export interface FoundBall {
  readonly found: boolean;
  readonly x: number;
  readonly y: number;
  readonly area: number;
}

/** RTP video clock, ticks per second. */
const RTP_HZ = 90_000;
/** Frames further apart than this (s) say nothing about where the ball is now: look everywhere. */
const MAX_GAP_S = 0.25;
/** Beyond the ball's radius: its anti-aliased edge and the detector's box margin (3 px), px. */
const EDGE_PX = 4;
/** Least safety margin on each side, px; it is at least the radius, so that the background outnumbers the ball even
 * in a window clipped at a frame corner (the detector's histogram needs that). */
const SAFETY_PX = 16;
/** A detection whose area changed by more than this factor is not trusted to the window (a new scene or size). */
const AREA_FACTOR = 2;

/** RTP ticks from `from` to `to`, modulo 2^32. */
const ticksBetween = (from: number, to: number) => (to - from) >>> 0;

/**
 * The window to detect `rtpTimestamp` in, or null for the whole frame. Each side reaches the predicted centre ± (radius
 * + edge + twice the motion in the interval, which covers a bounce off a wall, + safety ≥ radius); x and y even, as the chroma
 * planes of I420 and NV12 need for `VideoFrame.copyTo({ rect })`, clipped to the frame.
 */
export function searchWindow(track: BallTrack | null, rtpTimestamp: number, frameWidth: number, frameHeight: number): Rect | null {
  if (!track?.velocity || track.frameWidth !== frameWidth || track.frameHeight !== frameHeight) return null;
  const dt = ticksBetween(track.rtpTimestamp, rtpTimestamp) / RTP_HZ;
  if (dt <= 0 || dt > MAX_GAP_S) return null;
  const radius = Math.sqrt(track.area / Math.PI);
  const side = (centre: number, speed: number, size: number): [number, number] => {
    const reach = radius + EDGE_PX + 2 * Math.abs(speed) * dt + Math.max(SAFETY_PX, radius);
    const predicted = Math.min(size, Math.max(0, centre + speed * dt));
    const lo = Math.max(0, 2 * Math.floor((predicted - reach) / 2));
    const hi = Math.min(size, 2 * Math.ceil((predicted + reach) / 2));
    return [lo, hi];
  };
  const [x0, x1] = side(track.x, track.velocity.x, frameWidth);
  const [y0, y1] = side(track.y, track.velocity.y, frameHeight);
  if ((x1 - x0) * (y1 - y0) >= frameWidth * frameHeight) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Whether a detection inside `window` can be trusted: found, the ball's extent (centre ± radius + edge) within the
 * window wherever the window's side is not the frame's, and its area within a factor of the tracked one. Otherwise
 * the worker detects the same frame again, whole.
 */
export function fitsWindow(ball: FoundBall, window: Rect, track: BallTrack): boolean {
  if (!ball.found || ball.area * AREA_FACTOR < track.area || ball.area > track.area * AREA_FACTOR) return false;
  const reach = Math.sqrt(ball.area / Math.PI) + EDGE_PX;
  const inside = (centre: number, lo: number, hi: number, size: number) => (lo === 0 || centre - reach >= lo) && (hi === size || centre + reach <= hi);
  return inside(ball.x, window.x, window.x + window.width, track.frameWidth) && inside(ball.y, window.y, window.y + window.height, track.frameHeight);
}

/** The track after a frame's detection (null when the ball was not found: the next frame is searched whole). */
export function nextTrack(track: BallTrack | null, ball: FoundBall, rtpTimestamp: number, frameWidth: number, frameHeight: number): BallTrack | null {
  if (!ball.found) return null;
  const dt = track && track.frameWidth === frameWidth && track.frameHeight === frameHeight ? ticksBetween(track.rtpTimestamp, rtpTimestamp) / RTP_HZ : 0;
  const velocity = track && dt > 0 && dt <= MAX_GAP_S ? { x: (ball.x - track.x) / dt, y: (ball.y - track.y) / dt } : null;
  return { rtpTimestamp, x: ball.x, y: ball.y, velocity, area: ball.area, frameWidth, frameHeight };
}
