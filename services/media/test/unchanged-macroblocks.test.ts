/** Which macroblocks a patch frame leaves as they were: the map x264 gets as `mb_info`. */
import { describe, expect, test } from "bun:test";
import { MBINFO_CONSTANT, changedRects, constantMacroblocks, macroblockCount } from "../src/unchanged-macroblocks.ts";

const BG = { y: 235, u: 128, v: 128 };
const flat = (x0: number, y0: number, x1: number, y1: number, background = BG) => ({ width: 64, height: 48, flat: { background, x0, y0, x1, y1 } });

describe("macroblockCount", () => {
  test("whole 16×16 macroblocks, each side rounded up", () => {
    expect([macroblockCount(640, 480), macroblockCount(642, 482), macroblockCount(16, 16), macroblockCount(2, 2)]).toEqual([1200, 41 * 31, 1, 1]);
  });
});

describe("changedRects", () => {
  test("both pictures' rectangles when both are flat on the same background and size", () => {
    expect(changedRects(flat(0, 0, 10, 10), flat(20, 16, 40, 30))).toEqual([0, 0, 10, 10, 20, 16, 40, 30]);
  });

  test("not known (null) without a picture before, without a flat region on either, across sizes or backgrounds", () => {
    const raw = { width: 64, height: 48 };
    expect(changedRects(undefined, flat(0, 0, 10, 10))).toBeNull();
    expect(changedRects(raw, flat(0, 0, 10, 10))).toBeNull();
    expect(changedRects(flat(0, 0, 10, 10), raw)).toBeNull();
    expect(changedRects({ ...flat(0, 0, 10, 10), width: 32 }, flat(0, 0, 10, 10))).toBeNull();
    expect(changedRects(flat(0, 0, 10, 10, { ...BG, v: 127 }), flat(0, 0, 10, 10))).toBeNull();
  });
});

describe("constantMacroblocks", () => {
  const grid = (out: Uint8Array, columns: number) => Array.from({ length: out.length / columns }, (_, r) => [...out.subarray(r * columns, (r + 1) * columns)].join(""));

  test("every macroblock a rectangle touches is 0, the others constant; a rectangle on a boundary ends before it", () => {
    const out = constantMacroblocks(64, 48, [0, 0, 10, 10, 30, 16, 34, 32], new Uint8Array(12));
    expect(grid(out, 4)).toEqual(["0111", "1001", "1111"]);
    expect(MBINFO_CONSTANT).toBe(1);
  });

  test("no rectangles: all constant; one over the picture's edge is clipped; an empty one marks nothing", () => {
    expect(grid(constantMacroblocks(64, 48, [], new Uint8Array(12)), 4)).toEqual(["1111", "1111", "1111"]);
    expect(grid(constantMacroblocks(64, 48, [40, 40, 200, 200], new Uint8Array(12)), 4)).toEqual(["1111", "1111", "1100"]);
    expect(grid(constantMacroblocks(64, 48, [10, 10, 10, 30], new Uint8Array(12)), 4)).toEqual(["1111", "1111", "1111"]);
  });

  test("a picture whose sides are not whole macroblocks has its last partial ones too; the map is refilled every time; too small a map throws", () => {
    const out = new Uint8Array(macroblockCount(40, 20)).fill(7);
    expect(grid(constantMacroblocks(40, 20, [36, 18, 40, 20], out), 3)).toEqual(["111", "110"]);
    expect(grid(constantMacroblocks(40, 20, [0, 0, 2, 2], out), 3)).toEqual(["011", "111"]);
    expect(() => constantMacroblocks(640, 480, [], new Uint8Array(10))).toThrow("10 bytes for 1200 macroblocks");
  });
});
