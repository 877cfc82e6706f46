/**
 * The encoder's bitrate target and how it moves. x264 gets `-maxrate <target> -bufsize <target / min(fps, 30)>`:
 * a VBV of one frame up to 30 fps (33 ms of the target above), so no frame, an IDR included, is much larger than
 * that share of the target and a bottleneck at the target never queues more than about a frame (or 33 ms). The CRF
 * by fps stays the quality goal below the cap. libx264 in the process takes a change in place, at once. Through
 * ffmpeg a change means a fresh x264 (ffmpeg cannot change the rate of a running encoder, see docs/decisions.md): a
 * decrease is applied at once (the link is congested), an increase waits for the next periodic keyframe, where the
 * fresh encoder's IDR replaces the one the GOP would have sent anyway. Changes within the dead band are ignored
 * (hysteresis).
 * The target is the lower of a delay-based one (the browser's REMB) and a loss-based one (its receiver reports).
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

/**
 * Frame rate above which the VBV stops shrinking: at 1920×1080 and 120 fps a one-frame VBV of the 2000 kbit/s default
 * (2.1 kB) starved the 7 kB IDRs so far that the decoded pictures lost the ball (error p50 682 px); 33 ms (8.3 kB)
 * keeps p50 0.027 px (docs/media.md).
 */
export const VBV_MIN_FPS = 30;

/** x264's VBV for `kbps` at `fps`: maxrate = the target, bufsize = one frame's share of it at ≤ {@link VBV_MIN_FPS}. */
export function vbv(kbps: number, fps: number): { readonly maxrateKbps: number; readonly bufsizeKbits: number } {
  return { maxrateKbps: kbps, bufsizeKbits: Math.max(1, Math.round(kbps / Math.min(fps, VBV_MIN_FPS))) };
}

/** The {@link vbv} as ffmpeg's arguments. */
export function vbvArgs(kbps: number, fps: number): string[] {
  const { maxrateKbps, bufsizeKbits } = vbv(kbps, fps);
  return ["-maxrate", `${maxrateKbps}k`, "-bufsize", `${bufsizeKbits}k`];
}

/**
 * A sender using less than this share of its target is app-limited: the picture needs no more. Chromium's REMB for
 * such a sender follows the incoming rate (measured: ~0.97× a 140 kbit/s ball, climbing a few kbit/s per second),
 * not the link, so it is no reason to lower the target (whose one-frame VBV the ball's IDRs need).
 */
export const APP_LIMITED_SHARE = 0.5;

/**
 * Share of the REMB estimate taken as the target. Chromium's estimate for a sender at its budget stays near 1.5× the
 * incoming rate without over-use and falls to ~0.85× it on over-use; at 0.95 the target rises past the dead band in
 * the first case (x264 delivers ~0.9 of the target: 0.95 × 1.5 × 0.9 = 1.28) and falls below the link in the second.
 */
export const REMB_SHARE = 0.95;

/**
 * The target to follow from a REMB estimate. An app-limited sender (sent < {@link APP_LIMITED_SHARE} × target)
 * climbs by {@link BITRATE_INCREASE} back to the ceiling; one that uses its budget follows the estimate
 * ({@link REMB_SHARE} of it): down on over-use, up as the receiver's estimate grows. Always within the limits.
 */
export function targetFromRemb(currentKbps: number, rembKbps: number, sentKbps: number, limits: BitrateLimits): number {
  const wanted = sentKbps < currentKbps * APP_LIMITED_SHARE ? currentKbps * BITRATE_INCREASE : rembKbps * REMB_SHARE;
  return Math.round(Math.min(limits.maxKbps, Math.max(limits.minKbps, wanted)));
}

/** Loss (fraction of packets, as a receiver report counts it) above which the loss-based estimate falls: 10 %. */
export const LOSS_HIGH = 0.1;

/** Loss below which the loss-based estimate grows: 2 %. */
export const LOSS_LOW = 0.02;

/** Multiplicative growth of the loss-based estimate, at most once per {@link LOSS_INCREASE_INTERVAL_MS}. */
export const LOSS_INCREASE = 1.08;

/** The estimate grows at most this often (libwebrtc's loss-based estimator: 8 % a second). */
export const LOSS_INCREASE_INTERVAL_MS = 1000;

/**
 * The estimate falls at most this often: Chromium sends receiver reports every ~200 ms and, at the start, a dozen
 * within 300 ms, each counting few packets; one decrease per report took a 2000 kbit/s sender to its floor behind a
 * 900 kbit/s cap in 0.3 s (measured), from where REMB, which follows the incoming rate, barely climbs.
 */
export const LOSS_DECREASE_INTERVAL_MS = 300;

/**
 * Packets a loss figure must cover before it counts (libwebrtc's loss-based estimator: 20). A report every ~200 ms
 * of a 30 fps ball covers ~6 packets, where one random loss in 20 (5 %) reads as 17 %.
 */
export const LOSS_MIN_PACKETS = 20;

/**
 * GCC's loss-based controller (draft-ietf-rmcat-gcc §6): receiver reports are pooled until they cover
 * {@link LOSS_MIN_PACKETS} packets; then the estimate falls × (1 − loss / 2) above {@link LOSS_HIGH}, grows × {@link LOSS_INCREASE} below {@link LOSS_LOW},
 * else holds; each move at most as often as its interval allows; always within the limits. REMB is delay-based:
 * behind a bottleneck with a short queue the queue overflows (tail drop) before the delay grows much, and REMB alone
 * stays above the link (measured: 880–1200 kbit/s estimates behind a 900 kbit/s cap, 18 % loss). The sender
 * follows the lower of the two.
 */
export class LossBasedEstimate {
  #kbps: number;
  #lastDecreaseMs = Number.NEGATIVE_INFINITY;
  #lastIncreaseMs = Number.NEGATIVE_INFINITY;
  /** The highest sequence number of the last report (extended, as RTCP gives it), and what was pooled since. */
  #lastSequence: number | undefined;
  #pooledPackets = 0;
  #pooledLost = 0;
  readonly #limits: BitrateLimits;

  constructor(limits: BitrateLimits) {
    this.#limits = limits;
    this.#kbps = limits.maxKbps;
  }

  /** The estimate now (kbit/s). */
  get kbps(): number {
    return this.#kbps;
  }

  /**
   * Takes one receiver report (its fraction lost, 0–1, and extended highest sequence number) at `nowMs`; returns
   * the estimate.
   */
  report(fractionLost: number, highestSequence: number, nowMs: number): number {
    const packets = this.#lastSequence === undefined ? 0 : highestSequence - this.#lastSequence;
    this.#lastSequence = highestSequence;
    if (packets <= 0) return this.#kbps; // the first report, a repeat, or a reordered one
    this.#pooledPackets += packets;
    this.#pooledLost += fractionLost * packets;
    if (this.#pooledPackets < LOSS_MIN_PACKETS) return this.#kbps;
    const loss = this.#pooledLost / this.#pooledPackets;
    this.#pooledPackets = 0;
    this.#pooledLost = 0;
    return this.#move(loss, nowMs);
  }

  #move(fractionLost: number, nowMs: number): number {
    if (fractionLost > LOSS_HIGH && nowMs - this.#lastDecreaseMs >= LOSS_DECREASE_INTERVAL_MS) {
      this.#set(this.#kbps * (1 - fractionLost / 2));
      this.#lastDecreaseMs = nowMs;
    } else if (fractionLost < LOSS_LOW && nowMs - this.#lastIncreaseMs >= LOSS_INCREASE_INTERVAL_MS) {
      this.#set(this.#kbps * LOSS_INCREASE);
      this.#lastIncreaseMs = nowMs;
    }
    return this.#kbps;
  }

  #set(kbps: number): void {
    this.#kbps = Math.round(Math.min(this.#limits.maxKbps, Math.max(this.#limits.minKbps, kbps)));
  }
}
