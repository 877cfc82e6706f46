import { describe, expect, test } from "bun:test";
import { ProtocolError } from "@ballstream/protocol";
import type { ErrorReport } from "@ballstream/protocol";
import { controlBox, controlChange, followSetting } from "../src/lib/control-inputs.ts";
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

describe("followSetting", () => {
  const typed = { text: "60", shown: 30, edited: true };
  test("the view refresh with unchanged settings leaves the box alone (typed text included)", () => {
    expect(followSetting(typed, 30, false)).toBe(typed);
    expect(followSetting(typed, 30, true)).toBe(typed);
  });
  test("a box the viewer is in or has typed in keeps its text when the settings change elsewhere", () => {
    expect(followSetting(typed, 45, false)).toBe(typed);
    const untouched = controlBox(30);
    expect(followSetting(untouched, 45, true)).toBe(untouched);
  });
  test("an untouched box follows a genuine change (URL settings, another apply, the server)", () => {
    expect(followSetting(controlBox(30), 45, false)).toEqual({ text: "45", shown: 45, edited: false });
  });
  test("after Apply (no longer edited) the box keeps the sent text until the server's settings arrive, then shows them", () => {
    const sent = { ...typed, edited: false };
    expect(followSetting(sent, 30, false)).toBe(sent); // not yet confirmed: no flicker back to 30
    expect(followSetting(sent, 60, false)).toEqual(controlBox(60));
  });
});

describe("controlChange", () => {
  test("the boxes' texts as numbers within the shared limits", () => {
    expect(controlChange("60", "480")).toEqual({ fps: 60, speed: 480 });
    expect(controlChange(" 120 ", "0")).toEqual({ fps: 120, speed: 0 });
    expect(controlChange("1", "12.5")).toEqual({ fps: 1, speed: 12.5 });
  });
  test("a bad value is refused with a message naming the box, the limits and the text", () => {
    for (const [fps, speed, name, text, limit] of [
      ["0", "320", "fps", "0", "1–120"],
      ["500", "320", "fps", "500", "1–120"],
      ["abc", "320", "fps", "abc", "1–120"],
      ["", "320", "fps", "", "1–120"],
      ["29.5", "320", "fps", "29.5", "integer"],
      ["30", "-5", "speed", "-5", "0–5000"],
      ["30", "fast", "speed", "fast", "0–5000"],
    ] as const) {
      expect(() => controlChange(fps, speed)).toThrow(ProtocolError);
      expect(() => controlChange(fps, speed)).toThrow(`Not applied: ${name} must be`);
      expect(() => controlChange(fps, speed)).toThrow(limit);
      expect(() => controlChange(fps, speed)).toThrow(`the ${name} box says "${text}".`);
    }
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
