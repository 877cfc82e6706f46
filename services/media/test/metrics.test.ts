import { describe, expect, test } from "bun:test";
import { createRegistry } from "@ballstream/runtime";
import { sampleValue } from "@ballstream/testing";
import { createMediaMetrics } from "../src/metrics.ts";

describe("media metrics", () => {
  test("media encode time is recorded in seconds with 1 ms resolution; bad values are ignored", async () => {
    const r = createRegistry();
    const m = createMediaMetrics(r);
    m.observeEncodeMs(2.5);
    m.observeEncodeMs(Number.NaN);
    m.observeEncodeMs(-1);
    m.framesSent.inc();
    m.keyframes.inc();
    const text = await r.metrics();
    expect(sampleValue(text, "ballstream_media_encode_seconds_count")).toBe(1);
    expect(sampleValue(text, "ballstream_media_encode_seconds_sum")).toBeCloseTo(0.0025, 9);
    expect(sampleValue(text, 'ballstream_media_encode_seconds_bucket{le="0.002"}')).toBe(0);
    expect(sampleValue(text, 'ballstream_media_encode_seconds_bucket{le="0.003"}')).toBe(1);
    expect(sampleValue(text, "ballstream_media_frames_sent_total")).toBe(1);
    expect(sampleValue(text, "ballstream_media_keyframes_total")).toBe(1);
  });
});
