/**
 * A frame-level rate cap for libx264 run at a constant QP chosen per picture (x264.ts). x264's own CRF + VBV spends
 * ~half of each 640×480 frame's encode on the look-ahead analysis they need (a half-size copy of every picture and
 * its cost estimate): 0.69–0.72 ms a frame against 0.32–0.49 ms at a constant QP (docs/media.md, "x264 in the
 * process"). This module keeps the two things CRF + VBV gave us without that analysis:
 * - the quality goal: never a finer QP than `baseQp` for P-pictures and `idrQp` for IDRs (x264.ts derives both
 *   from the CRF by fps);
 * - the cap: a leaky bucket of the same size as x264's VBV (one frame's share of the target up to 30 fps,
 *   `vbv`); each picture gets the finest QP whose predicted size fits what the bucket has room for.
 * The prediction is the last picture of the same kind (IDR or not), its size moved along a slope in log2(bytes) per
 * QP step measured from its last two QPs (H.264's rule of thumb, six steps halve the bits, until then): the pictures
 * here change little from one to the next (a ball, noise), so the last one is a good guess, and a miss is corrected
 * from the next picture on.
 */
import { vbv } from "./rate-control.ts";

/** H.264's coarsest QP. */
export const MAX_QP = 51;
/** Share of the room a prediction aims at: the rest absorbs prediction error. */
export const QP_AIM = 0.95;

/** Log2 of the size's change per QP step: H.264's rule of thumb (six steps halve the bits), before two samples tell better. */
export const DEFAULT_SLOPE = -1 / 6;
/** Bounds of a measured slope: flat noise falls off a cliff (±8 levels: 11 KB at QP 23, 19 B at QP 30, 1.3 a step). */
export const SLOPE_RANGE = [-2, -1 / 24] as const;
/**
 * The bucket drains this share of the cap: the stream's long-run rate. x264's VBV delivered 0.88–0.90 of the target
 * on the noise scene (docs/media.md, "Target bitrate"), which left a link at the cap room for retransmissions and
 * RTCP; at 1.0 a sender capped at 700 kbit/s sent 769 with its NACK answers on a 700 kbit/s link with 2 % loss
 * (e2e/kernel-link.test.ts).
 */
export const DRAIN_SHARE = 0.88;

/**
 * Share of the bucket that pictures under their share may save up for the next ones. One QP step halves the
 * bytes of the noise scene (±8 levels: 27 → 9.6 KB, 28 → 4.4 KB at 640×480), so without it every picture took the
 * coarser step: 0.64–0.75 of the cap; with half a bucket, 0.88–1.01, the largest P-picture 1.5× its share (a
 * bottleneck at the cap queues ~50 ms instead of ~33).
 */
export const CREDIT_SHARE = 0.5;
/** Finer by at most this many QP a picture: a prediction that is too fine costs one picture, not a burst. */
export const MAX_QP_DROP = 2;

/** The last picture of one kind, and how its size moved with the QP. */
interface Model {
  qp: number;
  bytes: number;
  slope: number;
}

/** Chooses each picture's QP under a bitrate cap; {@link done} tells it what the picture cost. */
export class QpControl {
  readonly baseQp: number;
  readonly idrQp: number;
  readonly #fps: number;
  #kbps: number;
  /** Bytes the bucket holds above its drain (0: empty; below 0: saved up, at most {@link CREDIT_SHARE} of it). */
  #debt = 0;
  readonly #models: { idr: Model | null; p: Model | null } = { idr: null, p: null };

  constructor(kbps: number, fps: number, baseQp: number, idrQp: number) {
    this.#kbps = kbps;
    this.#fps = fps;
    this.baseQp = baseQp;
    this.idrQp = idrQp;
  }

  /** The cap in kbit/s. */
  get kbps(): number {
    return this.#kbps;
  }

  /** A new cap (kbit/s), from the next picture on; what the bucket holds or saved is kept within the new size. */
  setKbps(kbps: number): void {
    this.#kbps = kbps;
    this.#debt = this.#clamp(this.#debt);
  }

  /** Bytes the next picture may take: the bucket's size less what it still holds. */
  room(): number {
    return Math.max(this.#bytesPerFrame() / 8, this.#bucketBytes() - this.#debt);
  }

  /**
   * The QP for the next picture (an IDR or not): the finest at or above the quality goal whose size, predicted from
   * the last picture of its kind along the measured slope, fits {@link QP_AIM} of the room; at most
   * {@link MAX_QP_DROP} finer than that picture.
   */
  next(idr: boolean): number {
    const floor = idr ? this.idrQp : this.baseQp;
    const same = idr ? this.#models.idr : this.#models.p;
    const model = same ?? (idr ? this.#models.p : this.#models.idr);
    if (model === null) return floor; // the stream's first picture: the quality goal, as CRF starts
    // An IDR guessed from P-pictures: intra pictures of this content cost ~20× a P-picture (the ball: 2.2 KB against
    // ~60–600 B); a P-picture guessed from the IDR: at most its size.
    const bytes = same === null && idr ? model.bytes * 20 : model.bytes;
    const wanted = model.qp + (Math.log2(QP_AIM * this.room()) - Math.log2(Math.max(1, bytes))) / model.slope;
    const qp = Math.max(Math.ceil(wanted), same === null ? floor : model.qp - MAX_QP_DROP);
    return Math.min(MAX_QP, Math.max(floor, qp));
  }

  /**
   * A picture of `bytes` was encoded at `qp`: its kind's model learns the size and (from the QP change) the slope;
   * the bucket drains {@link DRAIN_SHARE} of one frame's share and holds what it went over, at most its size (as a VBV buffer that runs
   * empty: one picture far over the cap does not starve the next dozen), or saves what it stayed under, at most
   * {@link CREDIT_SHARE} of its size.
   */
  done(idr: boolean, qp: number, bytes: number): void {
    const kind = idr ? "idr" : "p";
    const before = this.#models[kind];
    let slope = before?.slope ?? DEFAULT_SLOPE;
    if (before !== null && before.qp !== qp) {
      const measured = (Math.log2(Math.max(1, bytes)) - Math.log2(Math.max(1, before.bytes))) / (qp - before.qp);
      slope = Math.min(SLOPE_RANGE[1], Math.max(SLOPE_RANGE[0], measured));
    }
    this.#models[kind] = { qp, bytes, slope };
    this.#debt = this.#clamp(this.#debt + bytes - DRAIN_SHARE * this.#bytesPerFrame());
  }

  #clamp(debt: number): number {
    return Math.min(this.#bucketBytes(), Math.max(-CREDIT_SHARE * this.#bucketBytes(), debt));
  }

  #bytesPerFrame(): number {
    return (this.#kbps * 125) / this.#fps;
  }

  #bucketBytes(): number {
    return vbv(this.#kbps, this.#fps).bufsizeKbits * 125;
  }
}
