/**
 * Detection benchmark: time per 640×480 frame and accuracy of the coverage-weighted centroid (luma and RGBA
 * inputs), next to a reference Hough circle transform (gradient voting at the known radius, 1 px accumulator, the
 * seed's approach) on the same frames, the centroid on the generator's `noise` and `texture` scenes, and the
 * centroid on the detection worker's window (detect-window.ts: 132×88 px around the ball at 320 px/s, 30 fps). Run:
 * `bun bench/detect.ts` in web/. Prints figures; asserts nothing.
 */
import { detectBall, detectBallRgba } from "../src/lib/detect.ts";
import { searchWindow } from "../src/lib/detect-window.ts";
import { lumaFrame, noiseSource, rgbaFrame } from "../test/synthetic.ts";

const W = 640;
const H = 480;
const R = 24;
const FRAMES = 40;

/** Hough transform for circles of radius r: each strong-gradient pixel votes at distance r up its gradient (towards the brighter ball). */
function houghCentre(data: Uint8Array, r: number): { x: number; y: number } {
  const acc = new Uint32Array(W * H);
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      const i = y * W + x;
      const gx = data[i + 1]! - data[i - 1]!;
      const gy = data[i + W]! - data[i - W]!;
      const m = Math.hypot(gx, gy);
      if (m < 40) continue;
      const cx = Math.round(x + (r * gx) / m);
      const cy = Math.round(y + (r * gy) / m);
      if (cx >= 0 && cx < W && cy >= 0 && cy < H) acc[cy * W + cx]!++;
    }
  }
  let best = 0;
  for (let i = 1; i < acc.length; i++) if (acc[i]! > acc[best]!) best = i;
  return { x: (best % W) + 0.5, y: Math.floor(best / W) + 0.5 };
}

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5).toFixed(3)}  p95 ${q(0.95).toFixed(3)}  max ${s[s.length - 1]!.toFixed(3)}`;
}

const rand = noiseSource(7, 1_000_000);
const centres = Array.from({ length: FRAMES }, () => [R + (W - 2 * R) * ((rand() + 1e6) / 2e6), R + (H - 2 * R) * ((rand() + 1e6) / 2e6)] as const);
for (const [noise, scene] of [[0], [4], [0, "noise"], [0, "texture"]] as const) {
  const frames = centres.map(([x, y], i) => lumaFrame(x, y, R, { noise, scene, seed: i + 1 }));
  for (const [name, find] of [
    ["centroid", (f: (typeof frames)[number]) => detectBall(f)],
    ["hough   ", (f: (typeof frames)[number]) => houghCentre(f.data, R)],
  ] as const) {
    if (scene && name === "hough   ") continue; // Hough was compared on the flat frames
    for (let i = 0; i < 30; i++) find(frames[i % 5]!); // warm-up
    const times: number[] = [];
    const errors: number[] = [];
    frames.forEach((f, i) => {
      const t0 = performance.now();
      const d = find(f);
      times.push(performance.now() - t0);
      errors.push(Math.hypot(d.x - centres[i]![0], d.y - centres[i]![1]));
    });
    console.log(`${name} luma ${scene ? `scene ${scene}` : `noise ±${noise}`}: time ms ${stats(times)} | error px ${stats(errors)}`);
  }
}
const rgba = centres.slice(0, 10).map(([x, y]) => rgbaFrame(x, y, R, [0xff, 0x5a, 0x1f], [0x10, 0x14, 0x1c]));
const times: number[] = [];
for (let k = 0; k < 3; k++) rgba.forEach((f) => {
  const t0 = performance.now();
  detectBallRgba(f, W, H);
  times.push(performance.now() - t0);
});
console.log(`centroid RGBA: time ms ${stats(times.slice(10))}`);

for (const scene of [undefined, "noise", "texture"] as const) {
  const frames = centres.map(([x, y], i) => lumaFrame(x, y, R, { scene, seed: i + 1 }));
  const wtimes: number[] = [];
  const werrors: number[] = [];
  for (let k = 0; k < 3; k++) frames.forEach((f, i) => {
    const [cx, cy] = centres[i]!;
    // the window the worker would search, one frame after the ball was at 320 px/s from 10.67 px to the left
    const w = searchWindow({ rtpTimestamp: 0, x: cx - 320 / 30, y: cy, velocity: { x: 320, y: 0 }, area: Math.PI * R * R, frameWidth: W, frameHeight: H }, 3000, W, H)!;
    const t0 = performance.now();
    const d = detectBall({ data: f.data.subarray(w.y * W + w.x), width: w.width, height: w.height, stride: W });
    wtimes.push(performance.now() - t0);
    werrors.push(Math.hypot(d.x + w.x - cx, d.y + w.y - cy));
  });
  console.log(`centroid luma window ${scene ? `scene ${scene}` : "clean"}: time ms ${stats(wtimes.slice(frames.length))} | error px ${stats(werrors)}`);
}
