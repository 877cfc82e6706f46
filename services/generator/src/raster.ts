/**
 * Draws the ball straight into an I420 picture (what the encoder eats), with an anti-aliased edge: each pixel
 * takes the ball colour in proportion to how much of it the disc covers, so the coverage-weighted centroid of the
 * drawn ball is its true centre to a small fraction of a pixel. Pixel (i, j) covers [i, i+1) × [j, j+1), so its
 * centre is (i + 0.5, j + 0.5) — the convention of the page's detector. The luma behind the ball is the scene's
 * (`SCENES`): `flat` touches only the ball's old and new bounding boxes per frame (the rest of the persistent
 * canvas stays background); `noise` and `texture` repaint the whole luma plane first. Chroma is flat in every scene.
 */
import type { Scene } from "@ballstream/protocol";
import { type FlatRegion, i420ByteLength } from "@ballstream/runtime/frames";

/** A colour in Y'CbCr (BT.601 limited range, what H.264 assumes when a stream says nothing else). */
export interface Yuv {
  readonly y: number;
  readonly u: number;
  readonly v: number;
}

/** Converts `#rrggbb` to BT.601 limited-range Y'CbCr. */
export function hexToYuv(hex: string): Yuv {
  const m = /^#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})$/.exec(hex);
  if (!m) throw new Error(`colour ${hex} is not #rrggbb`);
  const [r, g, b] = [m[1]!, m[2]!, m[3]!].map((h) => Number.parseInt(h, 16) / 255) as [number, number, number];
  return {
    y: Math.round(16 + 65.481 * r + 128.553 * g + 24.966 * b),
    u: Math.round(128 - 37.797 * r - 74.203 * g + 112.0 * b),
    v: Math.round(128 + 112.0 * r - 93.786 * g - 18.214 * b),
  };
}

/** The fraction of a pixel of side `pixelSize` centred at distance `d` from the centre of a disc of radius `r`. */
export function edgeCoverage(d: number, r: number, pixelSize: number): number {
  const c = (r - d) / pixelSize + 0.5;
  return c <= 0 ? 0 : c >= 1 ? 1 : c;
}

/** Half-amplitude of the `noise` and `texture` scenes, in luma levels: the background spans bg − 8 … bg + 7 (+8). */
export const SCENE_AMPLITUDE = 8;
/** Side of a `texture` checkerboard square, px. */
const TEXTURE_CELL = 16;
/** Scroll speed of the `texture` scene, px/s (right, down). */
const TEXTURE_VELOCITY = [90, 45] as const;

/** A xorshift32 generator (Marsaglia): one 32-bit word per call, four noise pixels per word. `seed` must not be 0. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** Paints one frame's luma background; `previous` is the ball's box in the last frame (flat repaints only that). */
type LumaBackground = (timeMs: number, previous: Box | undefined) => void;

/** The luma painter of `scene` over `yPlane` (`width`×`height`) around background level `bg`. */
function lumaBackground(scene: Scene, yPlane: Uint8Array, width: number, height: number, bg: number): LumaBackground {
  const low = Math.min(255 - 2 * SCENE_AMPLITUDE, Math.max(0, bg - SCENE_AMPLITUDE));
  switch (scene) {
    case "flat":
      return (_t, b) => {
        if (b) for (let j = b.y0; j < b.y1; j++) yPlane.fill(bg, j * width + b.x0, j * width + b.x1);
      };
    case "noise": {
      // 4 pixels a word: low + (r & 0x0f) in each byte, no carry between bytes (low + 15 ≤ 255).
      const words = new Uint32Array(yPlane.buffer, yPlane.byteOffset, (width * height) / 4);
      const base = (low * 0x01010101) >>> 0;
      const next = xorshift32(0x9e3779b9);
      return () => {
        for (let k = 0; k < words.length; k++) words[k] = base + (next() & 0x0f0f0f0f);
      };
    }
    case "texture": {
      // Two row kinds of a checkerboard, one period wider than the picture; each frame copies a shifted window.
      const period = 2 * TEXTURE_CELL;
      const rows = [0, 1].map((kind) => Uint8Array.from({ length: width + period }, (_, i) => (((i / TEXTURE_CELL) | 0) + kind) & 1 ? low + 2 * SCENE_AMPLITUDE : low));
      const phase = (timeMs: number, v: number) => period - 1 - ((Math.floor((timeMs * v) / 1000) % period) + period) % period;
      return (timeMs) => {
        const ox = phase(timeMs, TEXTURE_VELOCITY[0]);
        const oy = phase(timeMs, TEXTURE_VELOCITY[1]);
        for (let j = 0; j < height; j++) yPlane.set(rows[(((j + oy) / TEXTURE_CELL) | 0) & 1]!.subarray(ox, ox + width), j * width);
      };
    }
  }
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A persistent I420 canvas with one ball on it. */
export interface BallRaster {
  readonly width: number;
  readonly height: number;
  /** The I420 picture (Y, then U, then V); valid until the next `draw`. */
  readonly pixels: Uint8Array;
  /**
   * Draws the scene at `timeMs` (the texture's scroll; noise is fresh on every call) and the ball over it at centre
   * (`x`, `y`) with `radius` (px, continuous coordinates); returns `pixels`.
   */
  draw(x: number, y: number, radius: number, timeMs?: number): Uint8Array;
  /**
   * In the `flat` scene, after a draw: the background and the ball's box, outside which the picture is all
   * background (what a patch frame carries); undefined in the other scenes and before the first draw.
   */
  flatRegion(): FlatRegion | undefined;
}

/** Creates a canvas of `width`×`height` (even) filled with `backgroundColor`, ready to draw a `ballColor` ball over `scene`. */
export function createBallRaster(width: number, height: number, ballColor: string, backgroundColor: string, scene: Scene = "flat"): BallRaster {
  if (width % 2 || height % 2 || width < 2 || height < 2) throw new Error(`I420 needs even dimensions, got ${width}x${height}`);
  const ball = hexToYuv(ballColor);
  const bg = hexToYuv(backgroundColor);
  const pixels = new Uint8Array(i420ByteLength(width, height));
  const cw = width / 2;
  const ch = height / 2;
  const yPlane = pixels.subarray(0, width * height);
  const uPlane = pixels.subarray(width * height, width * height + cw * ch);
  const vPlane = pixels.subarray(width * height + cw * ch);
  yPlane.fill(bg.y);
  uPlane.fill(bg.u);
  vPlane.fill(bg.v);
  const paintLuma = lumaBackground(scene, yPlane, width, height, bg.y);
  let previous: Box | undefined;

  /** Chroma-aligned box of luma pixels the disc can touch, clipped to the picture. */
  const boxOf = (x: number, y: number, r: number): Box => {
    const even = (n: number) => n - (n & 1);
    return {
      x0: Math.max(0, even(Math.floor(x - r - 1))),
      y0: Math.max(0, even(Math.floor(y - r - 1))),
      x1: Math.min(width, even(Math.ceil(x + r + 1)) + 2),
      y1: Math.min(height, even(Math.ceil(y + r + 1)) + 2),
    };
  };

  const clearChroma = (b: Box) => {
    for (let j = b.y0 / 2; j < b.y1 / 2; j++) {
      uPlane.fill(bg.u, j * cw + b.x0 / 2, j * cw + b.x1 / 2);
      vPlane.fill(bg.v, j * cw + b.x0 / 2, j * cw + b.x1 / 2);
    }
  };

  const draw = (x: number, y: number, r: number, timeMs = 0): Uint8Array => {
    paintLuma(timeMs, previous);
    if (previous) clearChroma(previous);
    const b = boxOf(x, y, r);
    previous = b;
    for (let j = b.y0; j < b.y1; j++) {
      const py = j + 0.5 - y;
      const row = j * width;
      for (let i = b.x0; i < b.x1; i++) {
        const dx = i + 0.5 - x;
        const c = edgeCoverage(Math.sqrt(dx * dx + py * py), r, 1); // not Math.hypot: 4× the whole draw's time in Bun
        if (c > 0) yPlane[row + i] = Math.round(yPlane[row + i]! + (ball.y - yPlane[row + i]!) * c);
      }
    }
    const du = ball.u - bg.u;
    const dv = ball.v - bg.v;
    for (let j = b.y0 / 2; j < b.y1 / 2; j++) {
      const py = 2 * j + 1 - y;
      const row = j * cw;
      for (let i = b.x0 / 2; i < b.x1 / 2; i++) {
        const dx = 2 * i + 1 - x;
        const c = edgeCoverage(Math.sqrt(dx * dx + py * py), r, 2);
        if (c > 0) {
          uPlane[row + i] = Math.round(bg.u + du * c);
          vPlane[row + i] = Math.round(bg.v + dv * c);
        }
      }
    }
    return pixels;
  };

  const flatRegion = (): FlatRegion | undefined => (scene === "flat" && previous !== undefined ? { background: bg, ...previous } : undefined);

  return { width, height, pixels, draw, flatRegion };
}
