import { describe, expect, test } from "bun:test";
import { AccessUnitParser, NAL_TYPE, isSliceType, nalType, splitAnnexB, toAnnexB } from "../src/annexb.ts";

const SC4 = [0, 0, 0, 1];
const SC3 = [0, 0, 1];
const sps = Uint8Array.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01]);
const pps = Uint8Array.from([0x68, 0xce, 0x3c, 0x80]);
const idr = Uint8Array.from([0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0x10, 0x02, 0x01, 0x77]);
const p = Uint8Array.from([0x41, 0x9a, 0x00, 0x00, 0x03, 0x01, 0x42]);
const keyframeAu = Uint8Array.from([...SC4, ...sps, ...SC4, ...pps, ...SC3, ...idr]);
const deltaAu = Uint8Array.from([...SC4, ...p]);

describe("nal types", () => {
  test("nalType reads the low 5 bits; slices are types 1–5", () => {
    expect([sps, pps, idr, p].map(nalType)).toEqual([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.idr, NAL_TYPE.slice]);
    expect([1, 5].every(isSliceType)).toBe(true);
    expect([0, 6, 7, 8, 9].some(isSliceType)).toBe(false);
  });
});

describe("AccessUnitParser", () => {
  test("one chunk with a keyframe: NALs without start codes, the frame ends with its slice", () => {
    const units = new AccessUnitParser().push(keyframeAu);
    expect(units).toHaveLength(1);
    expect(units[0]!.keyframe).toBe(true);
    expect(units[0]!.nals).toEqual([sps, pps, idr]);
  });

  test("two frames in one chunk, then a delta frame alone", () => {
    const parser = new AccessUnitParser();
    const units = parser.push(Uint8Array.from([...keyframeAu, ...deltaAu]));
    expect(units.map((u) => u.keyframe)).toEqual([true, false]);
    expect(units[1]!.nals).toEqual([p]);
    expect(parser.push(deltaAu).map((u) => u.nals)).toEqual([[p]]);
  });

  test("chunks split anywhere before the slice give the same frame", () => {
    const sliceStart = keyframeAu.length - idr.length;
    for (let cut = 1; cut <= sliceStart; cut++) {
      const parser = new AccessUnitParser();
      const units = [...parser.push(keyframeAu.subarray(0, cut)), ...parser.push(keyframeAu.subarray(cut))];
      expect({ cut, nals: units.map((u) => u.nals) }).toEqual({ cut, nals: [[sps, pps, idr]] });
      expect(parser.truncated).toBe(0);
    }
  });

  test("a start code split across chunks after a complete slice", () => {
    const parser = new AccessUnitParser();
    const first = parser.push(Uint8Array.from([...keyframeAu, 0, 0]));
    const second = parser.push(Uint8Array.from([0, 1, ...p]));
    expect(first.map((u) => u.nals)).toEqual([[sps, pps, idr]]);
    expect(second.map((u) => u.nals)).toEqual([[p]]);
    expect(parser.truncated).toBe(0);
  });

  test("a slice cut by a read is counted as truncated; its tail is dropped and the next frame is intact", () => {
    const parser = new AccessUnitParser();
    const cut = keyframeAu.length - 3;
    expect(parser.push(keyframeAu.subarray(0, cut))).toHaveLength(1); // sent at once (cannot know better)
    expect(parser.push(Uint8Array.from([...keyframeAu.subarray(cut), ...deltaAu])).map((u) => u.nals)).toEqual([[p]]);
    expect(parser.truncated).toBe(1);
  });

  test("garbage without start codes yields nothing and is counted", () => {
    const parser = new AccessUnitParser();
    expect(parser.push(Uint8Array.from([5, 6, 7]))).toEqual([]);
    expect(parser.truncated).toBe(1);
    expect(parser.push(deltaAu).map((u) => u.nals)).toEqual([[p]]);
  });
});

describe("toAnnexB", () => {
  test("joins NAL units with 4-byte start codes, and the parser splits them back", () => {
    const bytes = toAnnexB([sps, pps, idr]);
    expect([...bytes]).toEqual([...SC4, ...sps, ...SC4, ...pps, ...SC4, ...idr]);
    const [unit] = new AccessUnitParser().push(bytes);
    expect(unit!.keyframe).toBe(true);
    expect(unit!.nals.map((n) => [...n])).toEqual([[...sps], [...pps], [...idr]]);
  });
});

describe("splitAnnexB", () => {
  test("gives back the NAL units toAnnexB joined, as views (3- and 4-byte start codes alike)", () => {
    const nals = [Uint8Array.of(0x67, 1, 2), Uint8Array.of(0x68, 3), Uint8Array.of(0x65, 4, 5, 6)];
    const joined = toAnnexB(nals);
    const split = splitAnnexB(joined);
    expect(split.map((n) => [...n])).toEqual(nals.map((n) => [...n]));
    expect(split[0]!.buffer).toBe(joined.buffer);
    expect(splitAnnexB(Uint8Array.of(0, 0, 1, 0x41, 9, 0, 0, 0, 1, 0x41, 8)).map((n) => [...n])).toEqual([[0x41, 9], [0x41, 8]]);
    expect(splitAnnexB(Uint8Array.of(0x41, 9))).toEqual([]);
  });
});
