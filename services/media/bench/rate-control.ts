/**
 * Rate control against frame rate: `bun bench/rate-control.ts [width] [height] [seconds]` (default 640 480 6)
 * encodes the generator's ball frames at 1, 30, 60 and 120 fps with the shipped encoder arguments and with the
 * alternatives measured against them, and prints bytes per second (whole 2 s GOPs of a fresh x264, as after an fps
 * change) and the page's detector's error against the truth on the decoded frames (p50 / p95 / max, frames where
 * the ball was not found). Frames are written as fast as ffmpeg takes them: only what x264 makes of them counts.
 */
import { DEFAULT_SETTINGS } from "@ballstream/protocol";
import { FrameRenderer } from "@ballstream/generator/renderer";
import { summarize } from "@ballstream/testing";
import { detectBall } from "@ballstream/web/detect";
import { AccessUnitParser } from "../src/annexb.ts";
import { DEFAULT_ENCODER_OPTIONS } from "../src/encoder.ts";
import { encoderArgs } from "../src/ffmpeg-encoder.ts";
import { resolveFfmpeg } from "../src/ffmpeg-path.ts";

/** The rate-control arguments of each variant, replacing the shipped `-crf <crfFor(fps)>`. */
const VARIANTS: Record<string, (crf: string) => string[]> = {
  "shipped (crfFor)": (crf) => ["-crf", crf],
  "CRF 23 at every fps (before)": () => ["-crf", "23"],
  "ABR 200 kb/s, VBV 400 kb": () => ["-b:v", "200k", "-maxrate", "200k", "-bufsize", "400k"],
  "CRF 23 + VBV cap 200 kb/s, 200 kb": () => ["-crf", "23", "-maxrate", "200k", "-bufsize", "200k"],
};

const ffmpeg = resolveFfmpeg().path;
const [width, height, seconds] = [2, 3, 4].map((i, k) => Number(process.argv[i] ?? [640, 480, 6][k])) as [number, number, number];

async function run(fps: number, rateControl: (crf: string) => string[]) {
  const args = encoderArgs({ width, height, fps }, { keyframeIntervalS: 2, bitrateKbps: DEFAULT_ENCODER_OPTIONS.bitrateKbps, intraRefresh: false });
  args.splice(args.indexOf("-maxrate"), 4); // the one-frame VBV came later (issue 15): these variants are without it
  const at = args.indexOf("-crf");
  args.splice(at, 2, ...rateControl(args[at + 1]!));
  const encoder = Bun.spawn([ffmpeg, ...args], { stdin: "pipe", stdout: "pipe" });
  const renderer = new FrameRenderer("rateControlBench000000", { ...DEFAULT_SETTINGS, width, height, fps }, 0);
  const frames = Math.round(fps * seconds);
  const truths: Array<{ x: number; y: number }> = [];
  const writing = (async () => {
    for (let k = 0; k < frames; k++) {
      const { frame } = renderer.render((k * 1000) / fps);
      const pixels = frame.subarray(frame.length - width * height * 1.5);
      truths.push(renderer.ballAt((k * 1000) / fps));
      encoder.stdin.write(pixels);
      await encoder.stdin.flush();
    }
    encoder.stdin.end();
  })();
  const h264 = Buffer.concat(await Array.fromAsync(encoder.stdout));
  await writing;
  const units = new AccessUnitParser().push(h264);
  const bytes = units.reduce((sum, u) => sum + u.nals.reduce((s, n) => s + 4 + n.length, 0), 0);
  const decoder = Bun.spawn([ffmpeg, "-loglevel", "error", "-f", "h264", "-i", "pipe:0", "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"], { stdin: "pipe", stdout: "pipe" });
  decoder.stdin.write(h264);
  decoder.stdin.end();
  const decoded = Buffer.concat(await Array.fromAsync(decoder.stdout));
  const size = width * height * 1.5;
  const errors: number[] = [];
  let missed = 0;
  for (let k = 0; (k + 1) * size <= decoded.length; k++) {
    const d = detectBall({ data: decoded.subarray(k * size, k * size + width * height), width, height });
    if (d.found) errors.push(Math.hypot(d.x - truths[k]!.x, d.y - truths[k]!.y));
    else missed++;
  }
  const e = summarize(errors);
  return { bytesPerSecond: bytes / seconds, p50: e.p50, p95: e.p95, max: e.max, missed, frames: units.length };
}

if (import.meta.main) {
  console.log(`${width}×${height}, ${seconds} s per run, ffmpeg ${ffmpeg}`);
  for (const [name, rateControl] of Object.entries(VARIANTS)) {
    for (const fps of [1, 30, 60, 120]) {
      const r = await run(fps, rateControl);
      console.log(
        `${name.padEnd(36)} ${String(fps).padStart(3)} fps: ${(r.bytesPerSecond / 1000).toFixed(1).padStart(5)} kB/s; error p50 ${r.p50.toFixed(3)} / p95 ${r.p95.toFixed(3)} / max ${r.max.toFixed(3)} px; not found ${r.missed} of ${r.frames}`,
      );
    }
  }
}
