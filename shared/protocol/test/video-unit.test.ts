import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../src/errors.ts";
import { MAX_VIDEO_UNIT_BYTES, VIDEO_UNIT_HEADER_BYTES, type VideoUnit, VideoStreamReader, decodeVideoUnit, encodeVideoUnit, frameVideoRecord } from "../src/video-unit.ts";

const unit = (frameId: number, keyframe: boolean, size = 10): VideoUnit => ({
  frameId,
  captureTimeMs: 1_764_590_000_123.25 + frameId,
  keyframe,
  data: Uint8Array.from({ length: size }, (_, i) => (i * 7 + frameId) & 0xff),
});

describe("encodeVideoUnit / decodeVideoUnit", () => {
  test("round-trip keeps every field, data is the Annex-B bytes after the 16-byte header", () => {
    for (const u of [unit(0, true), unit(4_000_000_000, false, 3)]) {
      const bytes = encodeVideoUnit(u);
      expect(bytes.length).toBe(VIDEO_UNIT_HEADER_BYTES + u.data.length);
      const back = decodeVideoUnit(bytes);
      expect({ ...back, data: [...back.data] }).toEqual({ ...u, data: [...u.data] });
    }
  });

  test("rejects empty, oversized, other versions and a non-finite capture time", () => {
    const good = encodeVideoUnit(unit(1, true));
    const version = good.slice();
    version[0] = 2;
    const nan = good.slice();
    new DataView(nan.buffer).setFloat64(8, Number.NaN, true);
    for (const bad of [new Uint8Array(0), good.subarray(0, VIDEO_UNIT_HEADER_BYTES), new Uint8Array(MAX_VIDEO_UNIT_BYTES + 1), version, nan]) {
      expect(() => decodeVideoUnit(bad)).toThrow(ProtocolError);
    }
  });
});

describe("VideoStreamReader", () => {
  const stream = (units: VideoUnit[]) => {
    const records = units.map((u) => frameVideoRecord(encodeVideoUnit(u)));
    const out = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
    let o = 0;
    for (const r of records) (out.set(r, o), (o += r.length));
    return out;
  };

  test("frameVideoRecord prefixes the big-endian length", () => {
    expect([...frameVideoRecord(Uint8Array.of(9, 8, 7))]).toEqual([0, 0, 0, 3, 9, 8, 7]);
  });

  test("reassembles units from chunks of every size, in order", () => {
    const units = [unit(1, true, 5000), unit(2, false, 1), unit(3, false, 300)];
    const bytes = stream(units);
    for (const size of [1, 3, 4, 17, 1000, bytes.length]) {
      const reader = new VideoStreamReader();
      const got: number[] = [];
      for (let i = 0; i < bytes.length; i += size) got.push(...reader.push(bytes.subarray(i, i + size)).map((u) => u.frameId));
      expect(got).toEqual([1, 2, 3]);
      expect(reader.buffered).toBe(0);
    }
  });

  test("keeps a partial record buffered and throws on an oversized length", () => {
    const reader = new VideoStreamReader();
    expect(reader.push(stream([unit(1, true)]).subarray(0, 12))).toEqual([]);
    expect(reader.buffered).toBe(12);
    const huge = new Uint8Array(4);
    new DataView(huge.buffer).setUint32(0, MAX_VIDEO_UNIT_BYTES + 1);
    expect(() => new VideoStreamReader().push(huge)).toThrow(ProtocolError);
  });
});
