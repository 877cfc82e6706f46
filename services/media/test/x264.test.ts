/** The libx264 binding against the real library (Debian's libx264-164), on the test's own thread. */
import { afterEach, describe, expect, test } from "bun:test";
import { i420ByteLength } from "@ballstream/runtime";
import { NAL_TYPE, nalType, splitAnnexB } from "../src/annexb.ts";
import { X264, bitrateParams, loadX264, x264Params } from "../src/x264.ts";

const lib = loadX264()!;
const SETTINGS = { keyframeIntervalS: 2, bitrateKbps: 2000, intraRefresh: false };
const opened: X264[] = [];
afterEach(() => opened.splice(0).forEach((x) => x.close()));

function open(width = 320, height = 240, fps = 30, settings = SETTINGS): X264 {
  const x = X264.open(lib, { width, height, fps }, x264Params({ width, height, fps }, settings));
  opened.push(x);
  return x;
}

function picture(width: number, height: number, k: number, noise = false): Uint8Array {
  const pixels = new Uint8Array(i420ByteLength(width, height)).fill(40);
  if (noise) crypto.getRandomValues(pixels);
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
  test("one thread, no B-frames, trellis off, the GOP and CRF by fps, the one-frame VBV, headers on keyframes, Annex-B, silent", () => {
    const p = new Map(x264Params({ width: 640, height: 480, fps: 60 }, SETTINGS));
    expect(Object.fromEntries(p)).toEqual({
      threads: "1", bframes: "0", trellis: "0", fps: "60", "force-cfr": "1", keyint: "120", crf: "28",
      "vbv-maxrate": "2000", "vbv-bufsize": "67", "repeat-headers": "1", annexb: "1", log: "-1",
    });
    expect(new Map(x264Params({ width: 640, height: 480, fps: 30 }, { ...SETTINGS, intraRefresh: true })).get("intra-refresh")).toBe("1");
  });
});

describe("bitrateParams", () => {
  test("maxrate the target, bufsize one frame's share up to 30 fps", () => {
    expect(bitrateParams(600, 10)).toEqual([["vbv-maxrate", "600"], ["vbv-bufsize", "60"]]);
    expect(bitrateParams(600, 120)).toEqual([["vbv-maxrate", "600"], ["vbv-bufsize", "20"]]);
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
    expect(sei?.split(" ")).toEqual(expect.arrayContaining(["trellis=0", "me=dia", "subme=0", "cabac=0", "bframes=0", "threads=1", "rc=crf", "keyint=60", "vbv_maxrate=2000", "vbv_bufsize=67"]));
  });

  test("an IDR on demand from a running encoder, with its SPS and PPS again", () => {
    const x = open();
    for (let k = 0; k < 3; k++) x.encode(picture(320, 240, k), false);
    const idr = x.encode(picture(320, 240, 3), true)!;
    expect(idr.keyframe).toBe(true);
    expect(types(idr.data)).toEqual(expect.arrayContaining([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.idr]));
    expect(x.encode(picture(320, 240, 4), false)!.keyframe).toBe(false);
  });

  test("a new rate cap in place takes hold at once, without an IDR", () => {
    const x = open(320, 240, 30, { ...SETTINGS, bitrateKbps: 4000 });
    const size = (k: number) => x.encode(picture(320, 240, k, true), false)!.data.length;
    const before = [1, 2, 3, 4, 5].map(size);
    x.reconfigure(bitrateParams(200, 30));
    const after = [6, 7, 8, 9, 10].map(size);
    expect(after.slice(1).every((n) => n < Math.min(...before.slice(1)) / 3)).toBe(true);
  });

  test("the picture's size is checked; a refused option names itself; a closed encoder refuses to encode", () => {
    const x = open();
    expect(() => x.encode(new Uint8Array(100), false)).toThrow("100 bytes for a 320x240 I420 picture");
    expect(() => X264.open(lib, { width: 320, height: 240, fps: 30 }, [["no-such-option", "1"]])).toThrow("option no-such-option=1 refused (unknown name)");
    expect(() => x.reconfigure([["crf", "nonsense-value"]])).toThrow();
    x.close();
    x.close();
    expect(() => x.encode(picture(320, 240, 0), false)).toThrow("encoder closed");
  });

  test("an odd picture size is refused at open (4:2:0 needs even sizes)", () => {
    expect(() => X264.open(lib, { width: 321, height: 240, fps: 30 }, x264Params({ width: 321, height: 240, fps: 30 }, SETTINGS))).toThrow("refused to open 321x240");
  });
});
