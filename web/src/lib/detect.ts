/**
 * Finds the centre of a solid, anti-aliased ball on a flat background: a coverage-weighted centroid.
 *
 * Pixel (i, j) covers the square [i, i+1) × [j, j+1), so its centre is (i + 0.5, j + 0.5), the same continuous
 * coordinates the generator draws in. Every pixel near the ball gets the weight
 * `clamp((v − background) / (ball − background), 0, 1)`, which for an anti-aliased edge pixel is the fraction of
 * it the ball covers; the weighted mean of pixel centres is then the disc's centroid to a small fraction of a pixel.
 *
 * Three passes, all over typed arrays: (1) a luma histogram plus the brightest/darkest value of each row, which
 * yield the background (the mean level within `minContrast` of the most common one of the most populated band, so a noisy or textured
 * background counts at its centre), the ball level (the most common level at least `minContrast` from that mean)
 * and the rows the ball spans; (2) those rows only, for its columns; (3) the weighted centroid over that box
 * plus a margin. Dependency-free on purpose: the media engineer's test page bundles it, and it runs in a Worker.
 */

/** An 8-bit luma (Y) plane, e.g. the first plane of an I420 `VideoFrame.copyTo`. `stride` defaults to `width`. */
export interface LumaPlane {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly stride?: number;
}

/** Tuning of {@link detectBall}; the defaults suit the generator's frames after H.264. */
export interface DetectOptions {
  /** Least luma difference between ball and background (default 24). */
  readonly minContrast?: number;
  /** Weights below this fraction of full coverage count as background noise (default 0.06). */
  readonly noiseFloor?: number;
  /** Least ball area in px (sum of weights) to report it found (default 4). */
  readonly minArea?: number;
  /** Pixels around the thresholded box that still contribute their edge coverage (default 3). */
  readonly margin?: number;
}

/** Where the ball is. `x`, `y` in px (continuous coordinates); `area` in px² (sum of coverage). */
export interface BallDetection {
  readonly found: boolean;
  readonly x: number;
  readonly y: number;
  readonly area: number;
}

const NOT_FOUND: BallDetection = { found: false, x: Number.NaN, y: Number.NaN, area: 0 };

/** Reusable scratch memory, so that detecting a frame allocates nothing once warmed up. */
const scratch = { histogram: new Uint32Array(256), rowMin: new Uint8Array(0), rowMax: new Uint8Array(0), luma: new Uint8Array(0) };

function rowBuffers(height: number): { rowMin: Uint8Array; rowMax: Uint8Array } {
  if (scratch.rowMin.length < height) {
    scratch.rowMin = new Uint8Array(height);
    scratch.rowMax = new Uint8Array(height);
  }
  return scratch;
}

/** The most common level at least `minContrast` away from `background` (-1 if none). */
function ballLevel(histogram: Uint32Array, background: number, minContrast: number): number {
  let ball = -1;
  let best = 0;
  for (let v = 0; v < 256; v++) {
    if (Math.abs(v - background) >= minContrast && histogram[v]! > best) {
      best = histogram[v]!;
      ball = v;
    }
  }
  return ball;
}

/**
 * The background's most common level: the mode within the band of ±`half` levels that holds the most pixels. On a
 * whole frame that is the plain mode; in a small window of a noisy scene (±8 luma) the ball's single level can
 * outnumber every single background level, never the background's band (the ball is ≥ 2 × `half` away).
 */
function backgroundMode(histogram: Uint32Array, half: number): number {
  let sum = 0;
  for (let v = 0; v <= Math.min(255, half); v++) sum += histogram[v]!;
  let best = sum;
  let centre = 0;
  for (let c = 1; c < 256; c++) {
    if (c + half <= 255) sum += histogram[c + half]!;
    if (c - half - 1 >= 0) sum -= histogram[c - half - 1]!;
    if (sum > best) {
      best = sum;
      centre = c;
    }
  }
  let mode = Math.max(0, centre - half);
  for (let v = mode + 1; v <= Math.min(255, centre + half); v++) if (histogram[v]! > histogram[mode]!) mode = v;
  return mode;
}

/**
 * The background's level and spread: mean and mean absolute deviation of the levels within ±`band` of the most
 * common one. On a flat background that is the level itself; on a noisy or textured one (the generator's `noise`
 * and `texture` scenes, ±8 luma) the mode is any level of the spread, while the mean is its centre. The band must
 * reach both levels of the texture (16 apart as drawn, up to 18 after H.264) and not the ball's (≥ minContrast).
 */
function backgroundAround(histogram: Uint32Array, mode: number, band: number): { level: number; spread: number } {
  let n = 0;
  let sum = 0;
  for (let v = Math.max(0, mode - band); v <= Math.min(255, mode + band); v++) {
    n += histogram[v]!;
    sum += histogram[v]! * v;
  }
  const level = sum / n;
  let deviation = 0;
  for (let v = Math.max(0, mode - band); v <= Math.min(255, mode + band); v++) deviation += histogram[v]! * Math.abs(v - level);
  return { level, spread: deviation / n };
}

/** Detects the ball's centre in a luma plane. Pure apart from reused scratch buffers; never throws on pixels. */
export function detectBall(plane: LumaPlane, options: DetectOptions = {}): BallDetection {
  const { data, width, height } = plane;
  const stride = plane.stride ?? width;
  if (width <= 0 || height <= 0 || stride < width || data.length < stride * (height - 1) + width) {
    throw new RangeError(`luma plane ${width}×${height} (stride ${stride}) does not fit ${data.length} bytes`);
  }
  const minContrast = options.minContrast ?? 24;
  const noiseFloor = options.noiseFloor ?? 0.06;
  const minArea = options.minArea ?? 4;
  const margin = options.margin ?? 3;

  // Pass 1: histogram and per-row extremes.
  const histogram = scratch.histogram;
  histogram.fill(0);
  const { rowMin, rowMax } = rowBuffers(height);
  for (let y = 0; y < height; y++) {
    let lo = 255;
    let hi = 0;
    const start = y * stride;
    const end = start + width;
    for (let i = start; i < end; i++) {
      const v = data[i]!;
      histogram[v]!++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    rowMin[y] = lo;
    rowMax[y] = hi;
  }
  const mode = backgroundMode(histogram, minContrast >> 1);
  const { level: background, spread } = backgroundAround(histogram, mode, minContrast - 1);
  // from the background's centre: the dark squares of a texture the encoder starved may lie minContrast below its mode
  const ball = ballLevel(histogram, background, minContrast);
  if (ball < 0) return NOT_FOUND;
  const brighter = ball > background;
  const mid = (ball + background) / 2;

  // Pass 2: rows, then columns, whose pixels pass the half-coverage threshold.
  let y0 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    if (brighter ? rowMax[y]! > mid : rowMin[y]! < mid) {
      if (y0 < 0) y0 = y;
      y1 = y;
    }
  }
  if (y0 < 0) return NOT_FOUND;
  let x0 = width;
  let x1 = -1;
  for (let y = y0; y <= y1; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      const v = data[row + x]!;
      if (brighter ? v > mid : v < mid) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }

  // Pass 3: coverage-weighted centroid over the box plus margin.
  const bx0 = Math.max(0, x0 - margin);
  const bx1 = Math.min(width - 1, x1 + margin);
  const by0 = Math.max(0, y0 - margin);
  const by1 = Math.min(height - 1, y1 + margin);
  const scale = 1 / (ball - background);
  // A noisy background's pixels must weigh nothing: uniform noise ±a has mean deviation a/2, so 2.5× it clears them.
  const floor = Math.max(noiseFloor, (2.5 * spread) / Math.abs(ball - background));
  let sum = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = by0; y <= by1; y++) {
    const row = y * stride;
    let rowSum = 0;
    for (let x = bx0; x <= bx1; x++) {
      let w = (data[row + x]! - background) * scale;
      if (w < floor) continue;
      if (w > 1) w = 1;
      rowSum += w;
      sumX += w * x;
    }
    sum += rowSum;
    sumY += rowSum * y;
  }
  if (sum < minArea) return NOT_FOUND;
  return { found: true, x: sumX / sum + 0.5, y: sumY / sum + 0.5, area: sum };
}

/**
 * The luma of RGBA pixels (canvas `getImageData`), BT.601 weights in 8-bit fixed point, into `out` (reused scratch
 * memory when omitted: copy it to keep it).
 */
export function rgbaToLuma(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, out?: Uint8Array): Uint8Array {
  const n = width * height;
  if (rgba.length < 4 * n) throw new RangeError(`RGBA ${width}×${height} needs ${4 * n} bytes, got ${rgba.length}`);
  let luma = out;
  if (!luma) {
    if (scratch.luma.length < n) scratch.luma = new Uint8Array(n);
    luma = scratch.luma;
  } else if (luma.length < n) throw new RangeError(`luma output of ${luma.length} bytes is smaller than ${n}`);
  for (let i = 0, j = 0; i < n; i++, j += 4) luma[i] = (77 * rgba[j]! + 150 * rgba[j + 1]! + 29 * rgba[j + 2]!) >> 8;
  return luma;
}

/** Detects the ball's centre in RGBA pixels (via {@link rgbaToLuma}). */
export function detectBallRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, options?: DetectOptions): BallDetection {
  return detectBall({ data: rgbaToLuma(rgba, width, height), width, height }, options);
}
