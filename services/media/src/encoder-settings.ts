/** What x264 is told, whichever way it runs (ffmpeg's command line or libx264 in the process): the format, GOP, CRF and rate cap. */

/** What x264 is told about the pictures: each frame says it (`Frame.fps` beside its size), and a change restarts x264. */
export interface EncoderFormat {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** What x264 is told besides the format: GOP, rate cap, refresh mode. */
export interface X264Settings {
  readonly keyframeIntervalS: number;
  /** Target bitrate in kbit/s: `-maxrate`, with a VBV (`-bufsize`) of one frame. */
  readonly bitrateKbps: number;
  readonly intraRefresh: boolean;
}

/** x264's CRF at 30 fps and below: ffmpeg's default, with which every figure in docs/media.md was measured. */
export const BASE_CRF = 23;

/**
 * CRF added per doubling of the frame rate above 30 fps. At a fixed CRF, x264 spends bits per frame, and a P-frame
 * of the ball costs almost as much at 120 fps as at 30 (424 vs 610 bytes, 640×480): 120 fps took 2.7× the bytes
 * per second. With +5 per doubling, 60 / 120 fps take 1.16 / 1.17× the 30 fps rate (1.07 / 1.16× at 1920×1080),
 * and the detected centre stays within 0.08 px of the truth (docs/media.md, "Rate control per second").
 */
export const CRF_PER_FPS_DOUBLING = 5;

/** The CRF for frames at `fps`: {@link BASE_CRF} up to 30 fps, then the per-doubling step, so bits per second hold. */
export function crfFor(fps: number): number {
  return Math.round(10 * (BASE_CRF + CRF_PER_FPS_DOUBLING * Math.max(0, Math.log2(fps / 30)))) / 10;
}

/** Frames in one GOP: `keyframeIntervalS` seconds at `fps`, at least one. */
export function gopFrames(fps: number, keyframeIntervalS: number): number {
  return Math.max(1, Math.round(fps * keyframeIntervalS));
}
