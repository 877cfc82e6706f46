import { describe, expect, test } from "bun:test";
import { H3_ERROR, Http3Error } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "../../src/webtransport/frames.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";

describe("HTTP/3 frames", () => {
  test("encode then read gives the frame and its size", () => {
    const frame = encodeFrame(FRAME_TYPE.headers, Uint8Array.from([1, 2, 3]));
    expect(Array.from(frame)).toEqual([0x01, 0x03, 1, 2, 3]);
    const read = readFrame(frame, 0, 100);
    expect(read?.bytes).toBe(5);
    expect(read?.frame.type).toBe(FRAME_TYPE.headers);
    expect(Array.from(read?.frame.payload ?? [])).toEqual([1, 2, 3]);
  });

  test("truncated frames return null at every cut", () => {
    const frame = encodeFrame(FRAME_TYPE.data, new Uint8Array(300));
    for (let cut = 0; cut < frame.length; cut++) expect(readFrame(frame.subarray(0, cut), 0, 1000)).toBeNull();
  });

  test("unknown and GREASE types (even above 2^53) are returned for the caller to skip", () => {
    const grease = Uint8Array.from([...encodeVarint(0x1fn * 1000n ** 5n + 0x21n), 0x00]);
    expect(readFrame(grease, 0, 10)?.frame.type).toBe(0x1fn * 1000n ** 5n + 0x21n);
    expect(readFrame(encodeFrame(0x21, new Uint8Array(2)), 0, 10)?.frame.type).toBe(0x21);
  });

  test("an oversized declared length fails before the payload arrives", () => {
    const header = Uint8Array.from([...encodeVarint(FRAME_TYPE.headers), ...encodeVarint(1_000_000)]);
    const error = (() => {
      try {
        readFrame(header, 0, 65536);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(Http3Error);
    expect((error as Http3Error).code).toBe(H3_ERROR.excessiveLoad);
    const huge = Uint8Array.from([0x00, ...encodeVarint(2n ** 60n)]);
    expect(() => readFrame(huge, 0, 65536)).toThrow(Http3Error);
  });

  test("HTTP/2-only frame types are a protocol error", () => {
    for (const type of [0x02, 0x06, 0x08, 0x09]) {
      try {
        readFrame(Uint8Array.from([type, 0]), 0, 10);
        throw new Error("expected an error");
      } catch (error) {
        expect((error as Http3Error).code).toBe(H3_ERROR.frameUnexpected);
      }
    }
  });
});
