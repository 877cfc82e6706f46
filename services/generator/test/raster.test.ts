import { describe, expect, test } from "bun:test";
import { SCENE_AMPLITUDE, createBallRaster, edgeCoverage, hexToYuv, xorshift32 } from "../src/raster.ts";
import { centroid } from "./helpers.ts";

const W = 640;
const H = 480;
const BALL = "#ff5a1f";
const BG = "#10141c";

describe("hexToYuv", () => {
  test("gives BT.601 limited-range values", () => {
    expect(hexToYuv("#ffffff")).toEqual({ y: 235, u: 128, v: 128 });
    expect(hexToYuv("#000000")).toEqual({ y: 16, u: 128, v: 128 });
    expect(hexToYuv("#FF0000")).toEqual({ y: 81, u: 90, v: 240 });
    expect(hexToYuv("#0000ff")).toEqual({ y: 41, u: 240, v: 110 });
  });

  test("rejects anything but #rrggbb", () => {
    for (const bad of ["fff", "#fff", "#ggg000", "#1234567", "red"]) expect(() => hexToYuv(bad)).toThrow(/#rrggbb/);
  });
});

describe("xorshift32", () => {
  test("is Marsaglia's xorshift32: deterministic 32-bit words, never stuck at 0", () => {
    const next = xorshift32(1);
    expect(next()).toBe(270369);
    const words = Array.from({ length: 1000 }, next);
    expect(words.every((w) => Number.isInteger(w) && w > 0 && w < 2 ** 32)).toBe(true);
    expect(new Set(words).size).toBe(1000);
    expect(xorshift32(0)()).toBe(270369); // seed 0 would stay 0; it is taken as 1
  });
});

describe("edgeCoverage", () => {
  test("is 1 inside, 0 outside and linear across one pixel at the edge", () => {
    expect(edgeCoverage(0, 10, 1)).toBe(1);
    expect(edgeCoverage(9.5, 10, 1)).toBe(1);
    expect(edgeCoverage(10, 10, 1)).toBe(0.5);
    expect(edgeCoverage(10.25, 10, 1)).toBe(0.25);
    expect(edgeCoverage(10.5, 10, 1)).toBe(0);
    expect(edgeCoverage(50, 10, 1)).toBe(0);
    expect(edgeCoverage(10.5, 10, 2)).toBe(0.25);
  });
});

describe("createBallRaster", () => {
  const white = hexToYuv("#ffffff");
  const black = hexToYuv("#000000");

  test("an empty canvas is background in all three planes", () => {
    const r = createBallRaster(64, 48, "#ff0000", "#0000ff");
    const bg = hexToYuv("#0000ff");
    expect(r.pixels.length).toBe(64 * 48 * 1.5);
    expect(r.pixels.subarray(0, 64 * 48).every((v) => v === bg.y)).toBe(true);
    expect(r.pixels.subarray(64 * 48, 64 * 48 + 32 * 24).every((v) => v === bg.u)).toBe(true);
    expect(r.pixels.subarray(64 * 48 + 32 * 24).every((v) => v === bg.v)).toBe(true);
  });

  test("the luma centroid of the drawn ball is the true centre within 0.5 px (in fact far closer)", () => {
    const r = createBallRaster(W, H, "#ffffff", "#000000");
    let worst = 0;
    for (const radius of [3, 7.5, 24, 60]) {
      for (const [x, y] of [[320, 240], [100.3, 77.7], [421.77, 301.13], [radius, radius], [W - radius, H - radius], [333.5, 123.25]] as const) {
        const c = centroid(r.draw(x, y, radius).subarray(0, W * H), W, H, black.y, white.y);
        worst = Math.max(worst, Math.abs(c.x - x), Math.abs(c.y - y));
        expect(Math.abs(c.x - x)).toBeLessThan(0.5);
        expect(Math.abs(c.y - y)).toBeLessThan(0.5);
        // Coverage sums to the disc's area (less the sliver clipped when the ball touches the border).
        expect(Math.abs(c.area - Math.PI * radius * radius) / (Math.PI * radius * radius)).toBeLessThan(0.08);
      }
    }
    expect(worst).toBeLessThan(0.1);
  });

  test("the chroma planes carry the same ball at half resolution", () => {
    const red = hexToYuv("#ff0000");
    const r = createBallRaster(W, H, "#ff0000", "#000000");
    const px = r.draw(200.25, 150.75, 24);
    const c = centroid(px.subarray(W * H + (W / 2) * (H / 2)), W / 2, H / 2, black.v, red.v);
    expect(Math.abs(c.x * 2 - 200.25)).toBeLessThan(0.5);
    expect(Math.abs(c.y * 2 - 150.75)).toBeLessThan(0.5);
  });

  test("the edge is anti-aliased: partial values only in a one-pixel ring, rising towards the centre", () => {
    const r = createBallRaster(W, H, "#ffffff", "#000000");
    const x = 300.3;
    const y = 200.6;
    const radius = 20;
    const Y = r.draw(x, y, radius);
    let partial = 0;
    for (let j = 0; j < H; j++) {
      for (let i = 0; i < W; i++) {
        const v = Y[j * W + i]!;
        const d = Math.hypot(i + 0.5 - x, j + 0.5 - y);
        if (v > black.y && v < white.y) {
          partial++;
          expect(Math.abs(d - radius)).toBeLessThanOrEqual(0.5);
        } else if (d < radius - 0.5) expect(v).toBe(white.y);
        else if (d > radius + 0.5) expect(v).toBe(black.y);
      }
    }
    expect(partial).toBeGreaterThan(2 * Math.PI * radius * 0.8);
    // Along a row through the centre the values rise monotonically from background to ball.
    const row = Math.floor(y) * W;
    const left = Array.from({ length: 6 }, (_, k) => Y[row + Math.floor(x - radius) - 2 + k]!);
    for (let k = 1; k < left.length; k++) expect(left[k]!).toBeGreaterThanOrEqual(left[k - 1]!);
    expect(left[0]).toBe(black.y);
    expect(left.at(-1)).toBe(white.y);
  });

  test("moving the ball leaves no trail: the canvas equals a fresh one with the ball at its new place", () => {
    const r = createBallRaster(W, H, "#ff5a1f", "#10141c");
    for (const [x, y] of [[30, 30], [100.5, 90.25], [610, 450], [320.1, 240.9]] as const) r.draw(x, y, 24);
    const fresh = createBallRaster(W, H, "#ff5a1f", "#10141c");
    expect(Buffer.from(r.pixels).equals(Buffer.from(fresh.draw(320.1, 240.9, 24)))).toBe(true);
  });

  test("flat: outside flatRegion() the picture is background; other scenes and an undrawn canvas have none", () => {
    const r = createBallRaster(W, H, BALL, BG);
    expect(r.flatRegion()).toBeUndefined();
    for (const [x, y] of [
      [100, 80],
      [130.3, 95.7],
      [W - 26, H - 26],
    ] as const) {
      r.draw(x, y, 24);
      const region = r.flatRegion()!;
      expect(region.background).toEqual(hexToYuv(BG));
      expect([region.x0, region.y0, region.x1, region.y1].every((n) => n % 2 === 0)).toBe(true);
      expect([region.x0 <= x - 24, region.y0 <= y - 24, region.x1 >= x + 24, region.y1 >= y + 24, region.x1 <= W, region.y1 <= H]).toEqual([true, true, true, true, true, true]);
      const outside = r.pixels.slice();
      for (let j = region.y0; j < region.y1; j++) outside.fill(hexToYuv(BG).y, j * W + region.x0, j * W + region.x1);
      for (let j = region.y0 / 2; j < region.y1 / 2; j++) {
        outside.fill(hexToYuv(BG).u, W * H + j * (W / 2) + region.x0 / 2, W * H + j * (W / 2) + region.x1 / 2);
        outside.fill(hexToYuv(BG).v, W * H * 1.25 + j * (W / 2) + region.x0 / 2, W * H * 1.25 + j * (W / 2) + region.x1 / 2);
      }
      expect(Buffer.from(outside).equals(Buffer.from(createBallRaster(W, H, BALL, BG).pixels))).toBe(true);
    }
    for (const scene of ["noise", "texture"] as const) {
      const other = createBallRaster(W, H, BALL, BG, scene);
      other.draw(100, 80, 24);
      expect(other.flatRegion()).toBeUndefined();
    }
  });

  test("noise: fresh uniform luma −8…+7 around the background every frame, the ball solid over it, chroma flat", () => {
    const bg = hexToYuv("#10141c");
    const ball = hexToYuv("#ff5a1f");
    const r = createBallRaster(W, H, "#ff5a1f", "#10141c", "noise");
    const [x, y, radius] = [200.3, 150.7, 24];
    const first = Uint8Array.from(r.draw(x, y, radius, 0));
    const second = r.draw(x, y, radius, 0);
    const counts = new Map<number, number>();
    let differing = 0;
    let outside = 0;
    for (let j = 0; j < H; j++) {
      for (let i = 0; i < W; i++) {
        const d = Math.hypot(i + 0.5 - x, j + 0.5 - y);
        const v = second[j * W + i]!;
        if (d < radius - 0.5) expect(v).toBe(ball.y);
        if (d <= radius + 0.5) continue;
        outside++;
        counts.set(v - bg.y, (counts.get(v - bg.y) ?? 0) + 1);
        if (v !== first[j * W + i]) differing++;
      }
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * SCENE_AMPLITUDE }, (_, k) => k - SCENE_AMPLITUDE));
    for (const n of counts.values()) expect(Math.abs(n / outside - 1 / 16)).toBeLessThan(0.005);
    expect(differing / outside).toBeGreaterThan(0.9); // a pixel repeats its level by chance 1 time in 16
    const u = second.subarray(W * H, W * H + (W / 2) * (H / 2));
    expect(u.filter((v) => v !== bg.u).length).toBeLessThan(Math.PI * (radius / 2 + 1) ** 2);
  });

  test("texture: a ±8 checkerboard of 16 px squares that scrolls 90 px/s right and 45 px/s down", () => {
    const bg = hexToYuv("#10141c");
    const r = createBallRaster(W, H, "#ffffff", "#10141c", "texture");
    const a = Uint8Array.from(r.draw(600, 440, 20, 10_000));
    const b = r.draw(600, 440, 20, 11_000); // 90 px and 45 px later: the pattern's period is 32, so 26 and 13
    const levels = new Set<number>();
    for (let j = 0; j < 380; j++) {
      for (let i = 0; i < 540; i++) {
        levels.add(a[j * W + i]!);
        expect(b[(j + 13) * W + i + 26]).toBe(a[j * W + i]!);
      }
    }
    expect([...levels].sort((p, q) => p - q)).toEqual([bg.y - SCENE_AMPLITUDE, bg.y + SCENE_AMPLITUDE]);
    // squares of 16: along a row the level changes every 16 px
    const row = Array.from({ length: 64 }, (_, i) => a[i]!);
    const changes = row.flatMap((v, i) => (i > 0 && v !== row[i - 1] ? [i] : []));
    expect(changes.length).toBe(4);
    expect(changes[1]! - changes[0]!).toBe(16);
  });

  test("texture: the ball's luma centroid, weighted against the texture under it, is its centre", () => {
    const r = createBallRaster(W, H, "#ff5a1f", "#10141c", "texture");
    const ball = hexToYuv("#ff5a1f");
    const [x, y, radius] = [321.37, 211.81, 24];
    const under = Uint8Array.from(r.draw(10, 10, 3, 5000).subarray(0, W * H)); // the texture at this instant
    const Y = r.draw(x, y, radius, 5000);
    let [sx, sy, sum] = [0, 0, 0];
    for (let j = Math.floor(y - radius - 2); j < y + radius + 2; j++) {
      for (let i = Math.floor(x - radius - 2); i < x + radius + 2; i++) {
        const w = (Y[j * W + i]! - under[j * W + i]!) / (ball.y - under[j * W + i]!);
        sx += w * (i + 0.5);
        sy += w * (j + 0.5);
        sum += w;
      }
    }
    expect(Math.abs(sx / sum - x)).toBeLessThan(0.1);
    expect(Math.abs(sy / sum - y)).toBeLessThan(0.1);
  });

  test("refuses odd sizes", () => {
    expect(() => createBallRaster(63, 48, "#ffffff", "#000000")).toThrow(/even/);
  });
});
