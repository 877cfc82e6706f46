import { describe, expect, test } from "bun:test";
import { RTP_HISTORY_SIZE, RtpHistory } from "../src/rtp-history.ts";

describe("RtpHistory", () => {
  test("a packet is found by its sequence number with everything it was sent with, the payload not copied", () => {
    const h = new RtpHistory();
    const payload = Buffer.from([1, 2, 3]);
    const abs = Buffer.alloc(8, 9);
    h.add(65535, 0xfffffffe, true, payload, abs, 3);
    const p = h.get(65535)!;
    expect(p).toMatchObject({ sequenceNumber: 65535, timestamp: 0xfffffffe, marker: true, roc: 3 });
    expect(p.payload).toBe(payload);
    expect(p.absCaptureTime).toBe(abs);
    expect(h.get(65534)).toBeUndefined();
  });

  test(`the last ${RTP_HISTORY_SIZE} are kept across the wrap; older ones are forgotten`, () => {
    const h = new RtpHistory();
    const seqs = Array.from({ length: 300 }, (_, i) => (65400 + i) & 0xffff);
    for (const s of seqs) h.add(s, 0, false, Buffer.alloc(0), Buffer.alloc(8), s < 65400 ? 1 : 0);
    const kept = seqs.filter((s) => h.get(s) !== undefined);
    expect(kept).toEqual(seqs.slice(-RTP_HISTORY_SIZE));
    expect(h.get(seqs.at(-1)!)!.roc).toBe(1);
  });
});
