/** The libx264 binding against the real library (Debian's libx264-164), on the test's own thread. */
import { afterEach, describe, expect, test } from "bun:test";
import { i420ByteLength } from "@ballstream/runtime";
import { NAL_TYPE, nalType, splitAnnexB } from "../src/annexb.ts";
import { paintNoise } from "./encoder-helpers.ts";
import { MBINFO_CONSTANT, constantMacroblocks, macroblockCount } from "../src/unchanged-macroblocks.ts";
import { CappedX264, X264, loadX264, qualityQps, x264Params } from "../src/x264.ts";

const lib = loadX264()!;
const SETTINGS = { keyframeIntervalS: 2, bitrateKbps: 2000, intraRefresh: false };
const opened: X264[] = [];
afterEach(() => opened.splice(0).forEach((x) => x.close()));

function open(width = 320, height = 240, fps = 30, settings = SETTINGS): X264 {
  const x = X264.open(lib, { width, height, fps }, x264Params({ width, height, fps }, settings));
  opened.push(x);
  return x;
}

/** A moving bar over a flat picture, or over the generator's `noise` scene (±8 levels of fresh luma noise). */
function picture(width: number, height: number, k: number, noise = false): Uint8Array {
  const pixels = new Uint8Array(i420ByteLength(width, height)).fill(40);
  if (noise) paintNoise(pixels, width * height);
  pixels.fill(220, width * ((k * 3) % (height - 20)), width * ((k * 3) % (height - 20) + 20));
  return pixels;
}

const types = (data: Uint8Array) => splitAnnexB(data).map(nalType);

describe("loadX264", () => {
  test("loads the system's libx264; names that do not load give null", () => {
    expect(lib).not.toBeNull();
    expect(loadX264(["libdoes-not-exist.so.1"])).toBeNull();
  });
});

describe("x264Params", () => {
  test("one thread, no B-frames, trellis off, the GOP by fps, a constant QP of the CRF by fps, headers on keyframes, Annex-B, silent", () => {
    const p = new Map(x264Params({ width: 640, height: 480, fps: 60 }, SETTINGS));
    expect(Object.fromEntries(p)).toEqual({
      threads: "1", bframes: "0", trellis: "0", fps: "60", keyint: "infinite", qp: "31", ipratio: "10", pbratio: "10", "repeat-headers": "1", annexb: "1", log: "-1",
    });
    const refresh = new Map(x264Params({ width: 640, height: 480, fps: 30 }, { ...SETTINGS, intraRefresh: true }));
    expect([refresh.get("intra-refresh"), refresh.get("keyint")]).toEqual(["1", "60"]);
  });
});

describe("qualityQps", () => {
  test("8 (P) and 2 (IDR) below the CRF by fps up to 30 fps; 6 more per doubling above", () => {
    expect([1, 30, 60, 120].map(qualityQps)).toEqual([{ p: 15, idr: 21 }, { p: 15, idr: 21 }, { p: 21, idr: 27 }, { p: 27, idr: 33 }]);
  });
});

describe("X264", () => {
  test("every picture comes out of its own call as one access unit; the first is an IDR with SPS and PPS", () => {
    const x = open();
    const outs = Array.from({ length: 5 }, (_, k) => x.encode(picture(320, 240, k), false)!);
    expect(outs.map((o) => o.keyframe)).toEqual([true, false, false, false, false]);
    expect(types(outs[0]!.data)).toEqual(expect.arrayContaining([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.idr]));
    expect(types(outs[1]!.data)).toEqual([NAL_TYPE.slice]);
  });

  test("the settings are the ones asked for: x264's own SEI says so (ultrafast, baseline, one thread, trellis off)", () => {
    const first = open().encode(picture(320, 240, 0), false)!;
    const sei = new TextDecoder("latin1").decode(first.data).match(/x264 - core .*? options: ([^\0]*)/)?.[1];
    expect(sei?.split(" ")).toEqual(expect.arrayContaining(["trellis=0", "me=dia", "subme=0", "cabac=0", "bframes=0", "threads=1", "rc=cqp", "qp=31"]));
  });

  test("an IDR on demand from a running encoder, with its SPS and PPS again", () => {
    const x = open();
    for (let k = 0; k < 3; k++) x.encode(picture(320, 240, k), false);
    const idr = x.encode(picture(320, 240, 3), true)!;
    expect(idr.keyframe).toBe(true);
    expect(types(idr.data)).toEqual(expect.arrayContaining([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.idr]));
    expect(x.encode(picture(320, 240, 4), false)!.keyframe).toBe(false);
  });

  test("a QP per picture, anywhere in 11–51: coarser is smaller", () => {
    const x = open();
    x.encode(picture(320, 240, 0, true), false);
    // Fresh full-range noise every time: every QP leaves something to code (the scene's ±8 noise vanishes from ~30).
    const noise = () => crypto.getRandomValues(new Uint8Array(i420ByteLength(320, 240)));
    const sizes = [12, 20, 30, 40, 51].map((qp) => x.encode(noise(), false, qp)!.data.length);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeLessThan(sizes[i - 1]!);
    expect(sizes[4]!).toBeLessThan(sizes[0]! / 4);
  });

  test("a map of unchanged macroblocks: a true one leaves the stream byte for byte the same; one that calls a moving square unchanged makes x264 skip it", () => {
    const W = 320;
    const H = 240;
    /** A 24 px square at step k over a flat picture, and its rectangle. */
    const square = (k: number) => {
      const pixels = new Uint8Array(i420ByteLength(W, H)).fill(128).fill(40, 0, W * H);
      const [x0, y0] = [16 + 10 * k, 32 + 4 * k];
      for (let y = y0; y < y0 + 24; y++) pixels.fill(220, y * W + x0, y * W + x0 + 24);
      return { pixels, rect: [x0, y0, x0 + 24, y0 + 24] };
    };
    const stream = (map: (k: number) => Uint8Array | undefined) => {
      const x = open(W, H);
      return Array.from({ length: 12 }, (_, k) => Buffer.from(x.encode(square(k).pixels, false, 26, map(k))!.data));
    };
    const plain = stream(() => undefined);
    const truth = stream((k) => (k === 0 ? undefined : constantMacroblocks(W, H, [...square(k - 1).rect, ...square(k).rect], new Uint8Array(macroblockCount(W, H)))));
    const allUnchanged = stream((k) => (k === 0 ? undefined : new Uint8Array(macroblockCount(W, H)).fill(MBINFO_CONSTANT)));
    expect(truth.map((b, k) => b.equals(plain[k]!))).toEqual(plain.map(() => true));
    // Told that nothing changed, x264 codes every macroblock as a skip: the same few bytes whatever moved.
    expect(allUnchanged.slice(1).every((b, k) => b.length < plain[k + 1]!.length)).toBe(true);
    expect(Math.max(...allUnchanged.slice(1).map((b) => b.length))).toBeLessThanOrEqual(16);
    expect(() => open(W, H).encode(square(0).pixels, false, 26, new Uint8Array(10))).toThrow("10 mb_info bytes for a 320x240 picture");
  });

  test("the picture's size is checked; a refused option names itself; a closed encoder refuses to encode", () => {
    const x = open();
    expect(() => x.encode(new Uint8Array(100), false)).toThrow("100 bytes for a 320x240 I420 picture");
    expect(() => X264.open(lib, { width: 320, height: 240, fps: 30 }, [["no-such-option", "1"]])).toThrow("option no-such-option=1 refused (unknown name)");
    expect(() => X264.open(lib, { width: 320, height: 240, fps: 30 }, [["qp", "nonsense"]])).toThrow("option qp=nonsense refused (bad value)");
    x.close();
    x.close();
    expect(() => x.encode(picture(320, 240, 0), false)).toThrow("encoder closed");
  });

  test("an odd picture size is refused at open (4:2:0 needs even sizes)", () => {
    expect(() => X264.open(lib, { width: 321, height: 240, fps: 30 }, x264Params({ width: 321, height: 240, fps: 30 }, SETTINGS))).toThrow("refused to open 321x240");
  });
});

describe("CappedX264", () => {
  const capped: CappedX264[] = [];
  afterEach(() => capped.splice(0).forEach((x) => x.close()));
  const openCapped = (kbps: number) => {
    const x = CappedX264.open(lib, { width: 320, height: 240, fps: 30 }, { ...SETTINGS, bitrateKbps: kbps });
    capped.push(x);
    return x;
  };

  // One QP step halves this noise's bytes (26: 2.4 KB, 27: 1.1 KB at 320×240): under a 2.5 KB cap most pictures take
  // 27, so the rate stays well under the cap; x264's VBV would move the QP row by row.
  test("noise under a cap: the bytes per second stay within 50–110 % of it once running; the ball stays at the quality goal", () => {
    const x = openCapped(600);
    const sizes = Array.from({ length: 90 }, (_, k) => x.encode(picture(320, 240, k, true), false)!.data.length);
    const kbps = (sizes.slice(30).reduce((a, b) => a + b, 0) * 8) / 2 / 1000;
    expect(kbps).toBeGreaterThan(600 * 0.5);
    expect(kbps).toBeLessThan(600 * 1.1);
    const ball = openCapped(2000);
    const first = new TextDecoder("latin1").decode(ball.encode(picture(320, 240, 0), false)!.data);
    expect(first).toContain("rc=cqp");
    const balls = Array.from({ length: 30 }, (_, k) => ball.encode(picture(320, 240, k + 1), false)!.data.length);
    expect(Math.max(...balls)).toBeLessThan(2000);
  });

  test("a lower cap takes hold from the next pictures on, without an IDR; a higher one lets the QP back down", () => {
    const x = openCapped(3000);
    const size = (k: number) => x.encode(picture(320, 240, k, true), false)!;
    for (let k = 0; k < 20; k++) size(k);
    const before = [20, 21, 22, 23, 24].map((k) => size(k).data.length);
    x.setKbps(300);
    expect(x.kbps).toBe(300);
    const after = [25, 26, 27, 28, 29, 30, 31, 32].map((k) => size(k));
    expect(after.some((o) => o.keyframe)).toBe(false);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(after.slice(2).map((o) => o.data.length))).toBeLessThan(mean(before) / 4);
    x.setKbps(3000);
    const again = [33, 34, 35, 36, 37, 38, 39, 40].map((k) => size(k).data.length);
    expect(mean(again.slice(3))).toBeGreaterThan(mean(after.slice(2).map((o) => o.data.length)) * 4);
  });

  test("an IDR every GOP (2 s of pictures), counted from the last IDR, asked for or periodic", () => {
    const x = openCapped(2000);
    const keys = Array.from({ length: 130 }, (_, k) => x.encode(picture(320, 240, k), k === 70)!.keyframe);
    expect(keys.flatMap((key, k) => (key ? [k] : []))).toEqual([0, 60, 70]); // the next periodic one: 130
  });

  test("with intra refresh: no periodic IDR, and only an IDR counts as a keyframe (not a refresh's recovery point)", () => {
    const x = CappedX264.open(lib, { width: 320, height: 240, fps: 30 }, { ...SETTINGS, intraRefresh: true });
    capped.push(x);
    const outs = Array.from({ length: 130 }, (_, k) => x.encode(picture(320, 240, k), false)!);
    expect(outs.flatMap((o, k) => (o.keyframe ? [k] : []))).toEqual([0]);
    expect(outs.every((o) => o.keyframe === types(o.data).includes(NAL_TYPE.idr))).toBe(true);
  });

  test("an IDR under a cap is kept to it from the second one on", () => {
    const x = openCapped(600);
    for (let k = 0; k < 10; k++) x.encode(picture(320, 240, k, true), false);
    const idrs = [10, 40, 70].map((k) => {
      for (let i = 1; i < 30; i++) x.encode(picture(320, 240, k + i, true), false);
      return x.encode(picture(320, 240, k, true), true)!;
    });
    expect(idrs.every((o) => o.keyframe)).toBe(true);
    for (const o of idrs.slice(1)) expect(o.data.length).toBeLessThan((600 * 125) / 30 * 1.5);
  });
});
