import { describe, expect, test } from "bun:test";
import { type FrameTiming, biggestStage, decomposeLatency } from "../bench/stages.ts";

const frame = (capture: number): FrameTiming => ({
  captureMs: capture,
  receiveMs: capture + 6,
  presentedMs: capture + 20,
  decodedMs: capture + 19.5,
  detectMs: 0.6,
  sentMs: capture + 20.4,
  arrivalMs: capture + 22,
});

describe("decomposeLatency", () => {
  const frames = [0, 33, 66].map(frame);
  const stages = decomposeLatency(frames, { generateMs: 1, encodeMs: 3, jitterBufferMs: 8, decodeMs: 2 });
  const ms = Object.fromEntries(stages.map((s) => [s.name, s.ms]));
  test("splits capture → receive and receive → present by what is measured", () => {
    expect(ms.generate).toBe(1);
    expect(ms.encode).toBe(3);
    expect(ms["bus + packetize/send + network"]).toBe(2); // 6 − 1 − 3
    expect(ms["jitter buffer"]).toBe(8);
    expect(ms.decode).toBe(2);
    expect(ms["render (decoded → presented)"]).toBe(4); // 14 − 8 − 2
    expect(ms["capture → decoded at the detector"]).toBe(19.5);
    expect(ms.detect).toBe(0.6);
    expect(ms["detected → sent"]).toBeCloseTo(0.3, 9); // 20.4 − 19.5 − 0.6
    expect(ms["sent → signaling"]).toBeCloseTo(1.6, 9);
    expect(ms["coords back (decoded → signaling)"]).toBe(2.5);
  });
  test("the way back's parts add up to capture → coordinates at signaling", () => {
    const parts = ["capture → decoded at the detector", "detect", "detected → sent", "sent → signaling"].reduce((a, n) => a + ms[n]!, 0);
    expect(parts).toBeCloseTo(22, 9);
  });
  test("the glass-to-glass stages add up to the median glass-to-glass latency", () => {
    const sum = stages.filter((s) => s.glassToGlass).reduce((a, s) => a + s.ms, 0);
    expect(sum).toBe(20);
  });
  test("biggest stage is the costliest glass-to-glass one", () => {
    expect(biggestStage(stages)?.name).toBe("jitter buffer");
    expect(biggestStage([])).toBeNull();
  });
  test("missing inputs give NaN, negative remainders are clamped", () => {
    const none = decomposeLatency([{ captureMs: 0, receiveMs: null, presentedMs: null, decodedMs: null, detectMs: null, sentMs: null, arrivalMs: null }], {
      generateMs: Number.NaN,
      encodeMs: 50,
      jitterBufferMs: Number.NaN,
      decodeMs: Number.NaN,
    });
    expect(none.find((s) => s.name === "render (decoded → presented)")?.ms).toBeNaN();
    const clamped = decomposeLatency(frames, { generateMs: 1, encodeMs: 50, jitterBufferMs: 8, decodeMs: 2 });
    expect(clamped.find((s) => s.name === "bus + packetize/send + network")?.ms).toBe(0);
  });
});
