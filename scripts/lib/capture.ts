/** Pure parts of `bun run capture`: the encoder command, real-time frame pacing, and the check of the result. */

/** What capture.mp4 must be. */
export const CAPTURE_LIMITS = { minSeconds: 15, maxBytes: 5 * 1024 * 1024 } as const;

/**
 * ffmpeg reading JPEG frames on stdin at a constant `fps` and writing H.264 (yuv420p, even dimensions) MP4 with the
 * index at the front (+faststart), so a browser can start playing it before it has all of it.
 */
export function ffmpegArgs(outFile: string, fps: number, crf = 28): string[] {
  return [
    "ffmpeg", "-y", "-hide_banner", "-loglevel", "error",
    "-f", "image2pipe", "-c:v", "mjpeg", "-framerate", String(fps), "-i", "-",
    "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p",
    "-c:v", "libx264", "-preset", "medium", "-crf", String(crf), "-pix_fmt", "yuv420p",
    "-movflags", "+faststart", outFile,
  ];
}

/**
 * How many output frames are due after `elapsedMs` at `fps` when `written` were written already: the output
 * keeps real time however irregularly the browser delivers screencast frames (the latest one is repeated).
 */
export function framesDue(elapsedMs: number, fps: number, written: number): number {
  return Math.max(0, Math.floor((elapsedMs * fps) / 1000) + 1 - written);
}

/** The parts of `ffprobe -print_format json -show_streams -show_format` that are checked. */
export interface ProbeInfo {
  readonly streams?: ReadonlyArray<{ codec_type?: string; codec_name?: string; pix_fmt?: string; width?: number; height?: number }>;
  readonly format?: { duration?: string; size?: string };
}

/** What is wrong with a capture (empty: nothing). */
export function captureProblems(info: ProbeInfo): string[] {
  const video = info.streams?.find((s) => s.codec_type === "video");
  const problems: string[] = [];
  if (!video) return ["no video stream"];
  if (video.codec_name !== "h264") problems.push(`codec is ${video.codec_name}, not h264`);
  if (video.pix_fmt !== "yuv420p") problems.push(`pixel format is ${video.pix_fmt}, not yuv420p`);
  const seconds = Number(info.format?.duration);
  if (!(seconds >= CAPTURE_LIMITS.minSeconds)) problems.push(`lasts ${info.format?.duration ?? "?"} s, less than ${CAPTURE_LIMITS.minSeconds} s`);
  const bytes = Number(info.format?.size);
  if (!(bytes < CAPTURE_LIMITS.maxBytes)) problems.push(`is ${info.format?.size ?? "?"} bytes, not under ${CAPTURE_LIMITS.maxBytes}`);
  return problems;
}
