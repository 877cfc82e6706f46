/**
 * The encoder's bitrate target and how it moves. x264 gets `-maxrate <target> -bufsize <target / fps>`: a VBV of
 * one frame, so no frame (an IDR included) is much larger than a frame's share of the target and a bottleneck at the
 * target never queues more than about a frame. The CRF by fps stays the quality goal below the cap. A change means
 * a fresh x264 (ffmpeg cannot change the rate of a running encoder, see docs/decisions.md): a decrease is applied at
 * once (the link is congested), an increase waits for the next periodic keyframe, where the fresh encoder's IDR
 * replaces the one the GOP would have sent anyway, and changes within the dead band are ignored (hysteresis).
 */

/** Bitrate limits of a session, in kbit/s. */
export interface BitrateLimits {
  /** The configured target (`VIDEO_BITRATE_KBPS`): the ceiling congestion response climbs back to. */
  readonly maxKbps: number;
  /** Never below this, whatever the receiver says. */
  readonly minKbps: number;
}

/** Relative change below which a new target is ignored (hysteresis): 15 %. */
export const BITRATE_DEAD_BAND = 0.15;

/** Multiplicative step of an increase while the receiver reports no congestion. */
export const BITRATE_INCREASE = 1.5;

/** How a wanted target compares with the current one: lower it now, raise it at a keyframe boundary, or keep it. */
export function bitrateChange(currentKbps: number, wantedKbps: number, deadBand = BITRATE_DEAD_BAND): "down" | "up" | null {
  if (wantedKbps < currentKbps * (1 - deadBand)) return "down";
  if (wantedKbps > currentKbps * (1 + deadBand)) return "up";
  return null;
}

/** x264's VBV for `kbps` at `fps`: maxrate = the target, bufsize = one frame's share of it. */
export function vbvArgs(kbps: number, fps: number): string[] {
  return ["-maxrate", `${kbps}k`, "-bufsize", `${Math.max(1, Math.round(kbps / fps))}k`];
}

/**
 * A REMB below this share of the rate actually sent means over-use. Chromium's REMB for a sender below its target
 * sits at ~0.97× the incoming rate and climbs only a few kbit/s per second (measured: 59 → 124 kbit/s in 22 s for a
 * 140 kbit/s ball), so "below the sent rate" alone is the normal state, not congestion.
 */
export const REMB_CONGESTED_SHARE = 0.7;

/**
 * The target to follow from a REMB estimate: well below what was actually sent ({@link REMB_CONGESTED_SHARE}, the
 * receiver sees over-use) the target drops to 90 % of the estimate; otherwise it climbs by
 * {@link BITRATE_INCREASE} towards the ceiling. A REMB near or above the sent rate says nothing about the link (a
 * sender below its target cannot be told more), so it never lowers the target: a ball that needs 150 kbit/s keeps
 * its full ceiling for its IDRs.
 */
export function targetFromRemb(currentKbps: number, rembKbps: number, sentKbps: number, limits: BitrateLimits): number {
  const wanted = rembKbps < sentKbps * REMB_CONGESTED_SHARE ? rembKbps * 0.9 : currentKbps * BITRATE_INCREASE;
  return Math.round(Math.min(limits.maxKbps, Math.max(limits.minKbps, wanted)));
}
