import { describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS } from "@ballstream/shared/messages";
import type { ErrorReport } from "@ballstream/shared/wt-protocol";
import { inputsForSettings } from "../src/lib/control-inputs.ts";
import { overlayMarks } from "../src/lib/overlay-marks.ts";
import { UpdateGate } from "../src/lib/update-gate.ts";

describe("UpdateGate", () => {
  test("updates at most once per interval, and only after a change", () => {
    const gate = new UpdateGate(100);
    expect(gate.take(0)).toBe(true); // the first view
    gate.mark();
    expect(gate.take(50)).toBe(false); // too soon
    expect(gate.take(100)).toBe(true);
    expect(gate.take(300)).toBe(false); // nothing changed since
    gate.mark();
    gate.mark();
    expect(gate.take(301)).toBe(true);
    expect(gate.take(500)).toBe(false);
  });
  test("a longer interval can be asked for (the idle timer)", () => {
    const gate = new UpdateGate(100);
    gate.take(0);
    gate.mark();
    expect(gate.take(150, 250)).toBe(false);
    expect(gate.take(250, 250)).toBe(true);
  });
});

describe("inputsForSettings", () => {
  const typed = { fps: 45, speed: 500 };
  test("new settings from the server replace the boxes' values", () => {
    const first = { ...DEFAULT_SETTINGS, fps: 30, speed: 320 };
    expect(inputsForSettings(null, first, typed)).toEqual({ fps: 30, speed: 320 });
    const changed = { ...first, fps: 60, speed: 100 };
    expect(inputsForSettings(first, changed, typed)).toEqual({ fps: 60, speed: 100 });
  });
  test("the same settings object (an unrelated update) leaves what the viewer typed", () => {
    const s = { ...DEFAULT_SETTINGS };
    expect(inputsForSettings(s, s, typed)).toBe(typed);
    expect(inputsForSettings(null, null, typed)).toBe(typed);
  });
});

describe("overlayMarks", () => {
  const report = { frameMatched: true, found: true, frameTruthX: 100, frameTruthY: 50, detectedX: 101.5, detectedY: 49 } as ErrorReport;
  test("ring on the reported frame's truth, cross on that same frame's detection", () => {
    expect(overlayMarks(report, 24)).toEqual({ ring: { x: 100, y: 50, radius: 28 }, cross: { x: 101.5, y: 49 } });
  });
  test("nothing for an unmatched report, a ball not found, or no report yet", () => {
    expect(overlayMarks({ ...report, frameMatched: false, found: false }, 24)).toEqual({ ring: null, cross: null });
    expect(overlayMarks({ ...report, found: false }, 24)).toEqual({ ring: { x: 100, y: 50, radius: 28 }, cross: null });
    expect(overlayMarks(null, 24)).toEqual({ ring: null, cross: null });
  });
});
