import { describe, expect, test } from "bun:test";
import { RtpHeader } from "werift";
import { absCaptureTime } from "../src/codec.ts";
import { RtpHeaderTemplate } from "../src/rtp-header.ts";

/** What werift's sender puts on the wire for the same fields: its header, extensions sorted by id. */
function weriftBytes(seq: number, ts: number, marker: boolean, extensions: Array<{ id: number; payload: Buffer }>): Buffer {
  const h = new RtpHeader({ sequenceNumber: seq, timestamp: ts, ssrc: 0x01020304, payloadType: 102, marker, extensions: [...extensions].sort((a, b) => a.id - b.id) });
  return h.serialize(h.serializeSize);
}

const capture = absCaptureTime(1_764_000_000_123.5);
/** The playout-delay payload for min = max = 0 (two 12-bit fields in 10 ms units), as werift would carry it. */
const ZERO_PLAYOUT_DELAY = Buffer.from([0, 0, 0]);

describe("RtpHeaderTemplate", () => {
  const cases: Array<[string, { playoutDelayId?: number; absCaptureTimeId?: number }]> = [
    ["both extensions", { playoutDelayId: 9, absCaptureTimeId: 4 }],
    ["playout delay only", { playoutDelayId: 2 }],
    ["abs-capture-time only", { absCaptureTimeId: 14 }],
    ["none", {}],
  ];
  for (const [name, ids] of cases) {
    test(`${name}: byte for byte what werift serialises`, () => {
      const t = new RtpHeaderTemplate(0x01020304, 102, ids);
      const extensions = [
        ...(ids.playoutDelayId === undefined ? [] : [{ id: ids.playoutDelayId, payload: ZERO_PLAYOUT_DELAY }]),
        ...(ids.absCaptureTimeId === undefined ? [] : [{ id: ids.absCaptureTimeId, payload: capture }]),
      ];
      for (const [seq, ts, marker] of [[0, 0, false], [65535, 0xffffffff, true], [1234, 90_000, true]] as const) {
        const out = Buffer.alloc(t.length);
        t.write(out, seq, ts, marker, capture);
        expect(out.toString("hex")).toBe(weriftBytes(seq, ts, marker, extensions).toString("hex"));
      }
    });
  }

  test("ids above 14 take two-byte elements (RFC 8285 §4.3), read back by werift", () => {
    const t = new RtpHeaderTemplate(7, 96, { playoutDelayId: 20, absCaptureTimeId: 3 });
    const out = Buffer.alloc(t.length);
    t.write(out, 5, 6, false, capture);
    expect(out.readUInt16BE(12)).toBe(0x1000);
    const back = RtpHeader.deSerialize(out);
    expect(back.extensions.map((e) => [e.id, Buffer.from(e.payload).toString("hex")])).toEqual([[3, capture.toString("hex")], [20, "000000"]]);
    expect(back).toMatchObject({ sequenceNumber: 5, timestamp: 6, ssrc: 7, payloadType: 96, marker: false, payloadOffset: t.length });
  });

  test("a packet without the marker after one with it: the template is not changed by a write", () => {
    const t = new RtpHeaderTemplate(7, 96, {});
    const out = Buffer.alloc(t.length);
    t.write(out, 1, 1, true, capture);
    t.write(out, 2, 1, false, capture);
    expect(RtpHeader.deSerialize(out).marker).toBe(false);
  });
});
