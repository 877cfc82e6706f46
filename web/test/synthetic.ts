/** Test helpers: synthetic frames with an exactly anti-aliased disc (coverage by 16×16 supersampling). */
import { seededRandom } from "@ballstream/testing";

/** Fraction of pixel (px, py) covered by the disc at (cx, cy) with radius r (pixel centres at +0.5). */
export function coverage(px: number, py: number, cx: number, cy: number, r: number): number {
  const dx = Math.max(Math.abs(px + 0.5 - cx) - 0.5, 0);
  const dy = Math.max(Math.abs(py + 0.5 - cy) - 0.5, 0);
  if (dx * dx + dy * dy >= r * r) return 0;
  const fx = Math.abs(px + 0.5 - cx) + 0.5;
  const fy = Math.abs(py + 0.5 - cy) + 0.5;
  if (fx * fx + fy * fy <= r * r) return 1;
  const n = 16;
  let inside = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const sx = px + (i + 0.5) / n - cx;
      const sy = py + (j + 0.5) / n - cy;
      if (sx * sx + sy * sy <= r * r) inside++;
    }
  }
  return inside / (n * n);
}

/** Deterministic noise in [-amplitude, amplitude] (the shared seeded generator). */
export function noiseSource(seed: number, amplitude: number): () => number {
  const random = seededRandom(seed);
  return () => Math.round((2 * random() - 1) * amplitude);
}

/** Options of {@link lumaFrame}. */
export interface DiscSpec {
  readonly width?: number;
  readonly height?: number;
  readonly stride?: number;
  readonly ball?: number;
  readonly background?: number;
  readonly noise?: number;
  readonly seed?: number;
  /**
   * What the generator's scene puts under the ball (blended with it by coverage, unlike `noise`, which is added
   * over everything): uniform luma noise −8…+7, or a 16 px checkerboard ±8 shifted by `seed` px.
   */
  readonly scene?: "noise" | "texture";
}

/** A luma plane with a disc at (cx, cy), or none when `r` is 0. */
export function lumaFrame(cx: number, cy: number, r: number, spec: DiscSpec = {}): { data: Uint8Array; width: number; height: number; stride: number } {
  const { width = 640, height = 480, ball = 130, background = 33, noise = 0, seed = 1 } = spec;
  const stride = spec.stride ?? width;
  const data = new Uint8Array(stride * height).fill(7);
  const rand = noiseSource(seed, noise);
  const sceneNoise = noiseSource(seed + 1, 1_000_000);
  const under = (x: number, y: number): number => {
    if (spec.scene === "noise") return background - 8 + (Math.abs(sceneNoise()) % 16);
    if (spec.scene === "texture") return background + ((((x + seed) >> 4) + ((y + seed) >> 4)) & 1 ? 8 : -8);
    return background;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = r > 0 ? coverage(x, y, cx, cy, r) : 0;
      const b = under(x, y);
      const v = b + c * (ball - b) + (noise ? rand() : 0);
      data[y * stride + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { data, width, height, stride };
}

/** RGBA pixels with a disc of colour `ball` on `background` (both [r, g, b]). */
export function rgbaFrame(cx: number, cy: number, r: number, ball: number[], background: number[], width = 640, height = 480): Uint8ClampedArray {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = coverage(x, y, cx, cy, r);
      const i = 4 * (y * width + x);
      for (let k = 0; k < 3; k++) data[i + k] = Math.round(background[k]! + c * (ball[k]! - background[k]!));
      data[i + 3] = 255;
    }
  }
  return data;
}
