import { describe, expect, test } from "bun:test";
import { createBallRaster, edgeCoverage, hexToYuv } from "../src/raster.ts";
import { centroid } from "./helpers.ts";

const W = 640;
const H = 480;

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

  test("refuses odd sizes", () => {
    expect(() => createBallRaster(63, 48, "#ffffff", "#000000")).toThrow(/even/);
  });
});
