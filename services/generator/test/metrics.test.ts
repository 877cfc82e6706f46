import { describe, expect, test } from "bun:test";
import { createRegistry } from "@ballstream/runtime";
import { sampleValue } from "@ballstream/testing";
import { createGeneratorMetrics } from "../src/metrics.ts";

describe("generator metrics", () => {
  test("generator counters and gauge appear in the exposition", async () => {
    const r = createRegistry();
    const m = createGeneratorMetrics(r);
    m.framesProduced.inc(3);
    m.framesLate.inc();
    m.framesSkipped.inc(2);
    m.activeSessions.inc();
    m.activeSessions.inc();
    m.activeSessions.dec();
    const text = await r.metrics();
    expect(sampleValue(text, "ballstream_generator_frames_produced_total")).toBe(3);
    expect(sampleValue(text, "ballstream_generator_frames_late_total")).toBe(1);
    expect(sampleValue(text, "ballstream_generator_frames_skipped_total")).toBe(2);
    expect(sampleValue(text, "ballstream_generator_active_sessions")).toBe(1);
  });
});
