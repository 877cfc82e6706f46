import { describe, expect, test } from "bun:test";
import { SATURATED_PCT, cpuCell, cpuLimit, cpuSlope, treesCpuPct } from "../bench/cpu.ts";

const cpu = (media: number, extra: Array<{ name: string; selfPct: number; childrenPct: number }> = []) => [{ name: "media", selfPct: media, childrenPct: 4 }, { name: "signaling", selfPct: 3, childrenPct: 0 }, ...extra];

describe("cpu", () => {
  test("treesCpuPct sums the named trees with their children only", () => {
    expect(treesCpuPct(cpu(20, [{ name: "chromium", selfPct: 1, childrenPct: 40 }]), ["media", "signaling"])).toBe(27);
    expect(treesCpuPct(cpu(20), ["generator"])).toBe(0);
  });
  test("cpuSlope runs from the first to the last step that held", () => {
    const steps = [
      { sessions: 1, cpu: cpu(10), failure: null },
      { sessions: 11, cpu: cpu(30), failure: null },
      { sessions: 21, cpu: cpu(90), failure: "x" },
    ];
    expect(cpuSlope(steps, ["media"])).toBe(2);
    expect(cpuSlope(steps.slice(0, 1), ["media"])).toBeNaN();
    expect(cpuSlope([], ["media"])).toBeNaN();
  });
  test("cpuCell names children only where there are some", () => {
    expect(cpuCell(cpu(20))).toBe("media 20.0 + 4.0 children; signaling 3.0");
  });
  test(`cpuLimit names the processes at ≥ ${SATURATED_PCT} % of a core, busiest first, and the machine's share`, () => {
    const l = cpuLimit(cpu(97, [{ name: "light receivers", selfPct: 88, childrenPct: 0 }, { name: "chromium", selfPct: 2, childrenPct: 80 }]), 2);
    expect(l.saturated).toEqual(["media (97.0 %)", "light receivers (88.0 %)"]);
    expect(l.machinePct).toBeCloseTo((97 + 4 + 3 + 88 + 2 + 80) / 2, 10);
    expect(cpuLimit(cpu(50), 2).saturated).toEqual([]);
  });
});
