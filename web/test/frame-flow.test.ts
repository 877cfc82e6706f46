import { describe, expect, test } from "bun:test";
import { type Coordinates, type ErrorReport, decodeCoordinates, encodeCoordinates } from "@ballstream/protocol";
import { paintedAt, presentationOf } from "../src/lib/display-times.ts";
import { FrameFlow, coordinatesOf } from "../src/lib/frame-flow.ts";
import { FrameJoiner } from "../src/lib/frame-joiner.ts";
import { KeyedJoin, rtpBefore } from "../src/lib/keyed-join.ts";
import { type Sample, SampleLog } from "../src/lib/samples.ts";

const det = (rtp: number, decodedAtMs = 1000): Coordinates => coordinatesOf(rtp, { found: true, x: 1, y: 2 }, decodedAtMs, 0.5);
const report = (rtp: number): ErrorReport => ({
  frameMatched: true, found: true, frameId: rtp, rtpTimestamp: rtp, detectedX: 1, detectedY: 2, frameTruthX: 1, frameTruthY: 2,
  nowTruthX: 4, nowTruthY: 2, realtimeErrorPx: 3, frameErrorPx: 0, latencyMs: 10, captureTimeMs: 990, arrivalMs: 1001,
});
const pairs = <L, R>(joined: { left: L; right: R | null }[]) => joined.map((j) => [j.left, j.right]);

describe("KeyedJoin", () => {
  test("pairs halves by key in either order; keys are taken modulo 2^32", () => {
    const j = new KeyedJoin<string, string>(100, 8);
    expect(j.left(1, "L1", 0)).toEqual([]);
    expect(pairs(j.right(1, "R1", 0))).toEqual([["L1", "R1"]]);
    expect(j.right(2 ** 32 + 2, "R2", 0)).toEqual([]);
    expect(pairs(j.left(2, "L2", 0))).toEqual([["L2", "R2"]]);
    expect(j.right(1, "again", 0)).toEqual([]); // the pair is gone; a late right only waits
  });
  test("expire releases lefts alone and drops rights after maxWaitMs", () => {
    const j = new KeyedJoin<string, string>(100, 8);
    j.left(1, "L1", 1000);
    j.right(2, "R2", 1000);
    expect(j.expire(1100)).toEqual([]);
    expect(pairs(j.expire(1101))).toEqual([["L1", null]]);
    expect(j.left(2, "L2", 1101)).toEqual([]); // R2 was dropped
    expect(j.right(1, "R1", 1101)).toEqual([]); // L1 was released
  });
  test("at most maxPending of each side wait: an overflowing left comes out alone, a right is dropped", () => {
    const j = new KeyedJoin<string, string>(100, 2);
    j.left(1, "L1", 0);
    j.left(2, "L2", 0);
    expect(pairs(j.left(3, "L3", 0))).toEqual([["L1", null]]);
    for (const k of [11, 12, 13]) expect(j.right(k, `R${k}`, 0)).toEqual([]);
    expect(j.left(11, "L11", 0).map((p) => p.right)).toEqual([null]); // R11 overflowed; L11 waits and pushes L2 out
    expect(pairs(j.left(13, "L13", 0))).toEqual([["L13", "R13"]]);
  });
  test("releaseBefore releases earlier lefts alone, in RTP order across the wrap", () => {
    const j = new KeyedJoin<string, string>(100, 8);
    j.left(2 ** 32 - 10, "old", 0);
    j.left(5, "now", 0);
    j.left(9, "later", 0);
    expect(pairs(j.releaseBefore(5))).toEqual([["old", null]]);
    expect(pairs(j.right(5, "R5", 0))).toEqual([["now", "R5"]]);
  });
  test("rtpBefore wraps modulo 2^32", () => {
    expect(rtpBefore(1, 2)).toBe(true);
    expect(rtpBefore(2, 1)).toBe(false);
    expect(rtpBefore(2 ** 32 - 10, 5)).toBe(true);
    expect(rtpBefore(7, 7)).toBe(false);
  });
});

describe("FrameJoiner", () => {
  test("releases a frame once detection and presentation are both known, in either order", () => {
    const j = new FrameJoiner();
    expect(j.detected(det(100))).toEqual([]);
    expect(j.presented(100, paintedAt(1010))).toEqual([{ ...det(100), ...paintedAt(1010) }]);
    expect(j.presented(200, paintedAt(1020))).toEqual([]);
    expect(j.detected(det(200))).toEqual([{ ...det(200), ...paintedAt(1020) }]);
  });
  test("a later presentation releases older unpresented detections first", () => {
    const j = new FrameJoiner();
    j.detected(det(100));
    j.detected(det(200));
    expect(j.presented(200, paintedAt(1020)).map((f) => [f.rtpTimestamp, f.presentedAtMs])).toEqual([[100, null], [200, 1020]]);
  });
  test("expire releases detections older than maxWaitMs; overflow releases the oldest", () => {
    const j = new FrameJoiner(50, 2);
    j.detected(det(1, 1000));
    expect(j.expire(1040)).toEqual([]);
    expect(j.expire(1060).map((f) => f.presentedAtMs)).toEqual([null]);
    j.detected(det(2));
    j.detected(det(3));
    expect(j.detected(det(4)).map((f) => f.rtpTimestamp)).toEqual([2]);
  });
});

describe("SampleLog", () => {
  const frame = (rtp: number, presentedAtMs: number | null) => ({ ...det(rtp), ...paintedAt(0), presentedAtMs });
  test("a report first, then its presented frame: one sample with glass-to-glass", () => {
    const log = new SampleLog();
    expect(log.report(report(100), 1001)).toEqual([]);
    const [s] = log.frame(frame(100, 1012), 1013);
    expect([s?.presentedAtMs, s?.glassToGlassMs, s?.decodedAtMs, s?.detectMs]).toEqual([1012, 22, 1000, 0.5]);
    expect(log.size).toBe(1);
  });
  test("the frame first (presented before the report came back), then the report", () => {
    const log = new SampleLog();
    expect(log.frame(frame(100, 1001), 1001)).toEqual([]);
    expect(log.report(report(100), 1002).map((s) => s.presentedAtMs)).toEqual([1001]);
  });
  test("a report whose frame never comes is released after maxWaitMs without the page's fields", () => {
    const log = new SampleLog(10, 200);
    log.report(report(100), 1000);
    expect(log.expire(1200)).toEqual([]);
    const [s] = log.expire(1201);
    expect([s?.rtpTimestamp, s?.presentedAtMs, s?.decodedAtMs, s?.glassToGlassMs]).toEqual([100, null, null, null]);
    expect(log.frame(frame(100, 1300), 1300)).toEqual([]); // too late: no second sample
    expect(log.size).toBe(1);
  });
  test("bounded: waiting reports overflow into samples, frames without a report are dropped, samples keep the newest", () => {
    const log = new SampleLog(3, 200, 2);
    log.report(report(1), 0);
    log.report(report(2), 0);
    expect(log.report(report(3), 0).map((s) => [s.rtpTimestamp, s.presentedAtMs])).toEqual([[1, null]]);
    for (const rtp of [11, 12, 13]) expect(log.frame(frame(rtp, 5), 0)).toEqual([]);
    expect(log.report(report(11), 0).map((s) => s.rtpTimestamp)).toEqual([2]); // frame 11 overflowed; report 11 waits, report 2 goes
    expect(log.report(report(13), 0).map((s) => s.presentedAtMs)).toEqual([5]);
    expect(log.samples().map((s) => s.rtpTimestamp)).toEqual([1, 2, 13]);
    log.expire(1000);
    expect(log.samples().map((s) => s.rtpTimestamp)).toEqual([13, 3, 11]);
  });
});

describe("FrameFlow", () => {
  const flowWith = () => {
    const sent: Coordinates[] = [];
    const byWorker: Coordinates[] = [];
    const samples: Sample[] = [];
    const flow = new FrameFlow({ send: (c, sentByWorker) => void (sentByWorker ? byWorker : sent).push(c), sample: (s) => void samples.push(s) });
    return { flow, sent, byWorker, samples };
  };

  test("coordinates leave at detection, before the frame is presented; the sample comes with the presentation", () => {
    const { flow, sent, samples } = flowWith();
    flow.detected(det(100, 1000), 1000.7);
    expect(sent).toEqual([det(100, 1000)]);
    flow.report(report(100), 1002);
    expect(samples).toEqual([]);
    flow.presented(100, paintedAt(1012), 1013);
    expect(samples.map((s) => [s.rtpTimestamp, s.presentedAtMs, s.glassToGlassMs, s.sentAtMs])).toEqual([[100, 1012, 22, 1000.7]]);
  });

  test("coordinates the worker sent itself: counted, not sent again; the sample keeps the worker's send time", () => {
    const { flow, sent, byWorker, samples } = flowWith();
    flow.detected(det(100, 1000), 1000.9, 1000.3);
    expect([sent, byWorker]).toEqual([[], [det(100, 1000)]]);
    flow.report(report(100), 1002);
    flow.presented(100, paintedAt(1012), 1013);
    expect(samples.map((s) => s.sentAtMs)).toEqual([1000.3]);
  });

  test("a hidden tab (no presentations at all): every frame is still sent at once; samples come after the expiry, unpresented", () => {
    const { flow, sent, samples } = flowWith();
    for (let i = 0; i < 10; i++) {
      flow.detected(det(3000 * i, 1000 + 33 * i), 1000 + 33 * i);
      expect(sent.length).toBe(i + 1);
      flow.report({ ...report(3000 * i), arrivalMs: 1001 + 33 * i }, 1001 + 33 * i);
    }
    expect(samples).toEqual([]);
    flow.expire(1000 + 33 * 9 + 201);
    expect(samples.map((s) => s.rtpTimestamp)).toEqual(sent.map((c) => c.rtpTimestamp));
    expect(samples.every((s) => s.presentedAtMs === null && s.glassToGlassMs === null && s.decodedAtMs !== null)).toBe(true);
  });

  test("main-thread fallback: detected at presentation, sent at once, sample on the report", () => {
    const { flow, sent, samples } = flowWith();
    flow.detectedAtPresentation(det(100, 1010), paintedAt(1010), 1011);
    expect(sent.map((c) => c.decodedAtMs)).toEqual([1010]);
    flow.report(report(100), 1012);
    expect(samples.map((s) => [s.glassToGlassMs, s.sentAtMs])).toEqual([[20, 1011]]);
    expect(flow.samples()).toEqual(samples);
  });

  test("coordinatesOf zeroes the centre of a ball not found and round-trips through the datagram", () => {
    const c = coordinatesOf(7, { found: false, x: Number.NaN, y: Number.NaN }, 1000, 0.5);
    expect(c).toEqual({ rtpTimestamp: 7, found: false, x: 0, y: 0, decodedAtMs: 1000, detectMs: 0.5 });
    expect(decodeCoordinates(encodeCoordinates(det(7)))).toEqual(det(7));
  });
});
