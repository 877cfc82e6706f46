import { describe, expect, test } from "bun:test";
import { parseLinkConditions } from "@ballstream/protocol";
import { BLACKOUT_AT_MS, BLACKOUT_MS, NET_CONDITIONS, NOISE_KBPS_FALLBACK, halfCapKbit, netGoals, netJson, netMatrix, recoveryMs } from "../bench/network.ts";
import type { NetRow, RunResult } from "../bench/results.ts";
import type { FrameTiming } from "../bench/stages.ts";
import { run } from "./bench-fixtures.ts";

const row = (id: string, g2g: number[], extra: Partial<RunResult> = {}, recoverMs = Number.NaN): NetRow => ({
  id, label: id, env: id === "delay50" ? { MEDIA_NET_EGRESS: "delay=50ms" } : {}, run: { ...run("one-process", 30, g2g, id), ...extra }, recoverMs,
});
const rows: NetRow[] = [
  row("unimpaired", [4, 8]),
  row("delay50", [54, 58]),
  row("loss1", [5, 20]),
  row("loss5", [6, 30], { deliveredPct: 97, freezesPerMin: 4 }),
  row("noise", [10, 20]),
  row("cap_half", [30, 50]),
  row("blackout1s", [4, 9], {}, 120),
  row("cap_half_no_cc", [], { ended: "error: ICE failed" }),
];

const timing = (receiveMs: number, presentedMs: number | null): FrameTiming => ({ captureMs: receiveMs - 2, receiveMs, presentedMs, decodedMs: null, detectMs: null, sentMs: null, arrivalMs: null });

describe("network matrix", () => {
  test("every condition's environment parses as link conditions, the caps at the given rate", () => {
    for (const c of NET_CONDITIONS) {
      for (const [k, v] of Object.entries(c.env(900))) if (k.includes("_NET_")) expect(() => parseLinkConditions(v)).not.toThrow();
    }
    const cap = NET_CONDITIONS.find((c) => c.id === "cap_half_no_cc")!.env(900);
    expect(cap).toEqual({ MEDIA_NET_EGRESS: "rate=900kbit", CONGESTION_RESPONSE: "0", VIDEO_TIMEOUT_MS: "60000" }); // lives through the window
    expect(NET_CONDITIONS.findIndex((c) => c.id === "noise")).toBeLessThan(NET_CONDITIONS.findIndex((c) => c.id === "cap_half"));
    expect(NET_CONDITIONS.find((c) => c.id === "blackout1s")!.env(0).MEDIA_NET_EGRESS).toBe(`blackout=${BLACKOUT_MS}ms,blackout-at=${BLACKOUT_AT_MS}ms`);
  });
  test("halfCapKbit halves the measured rate, or media's figure when unmeasured", () => {
    expect(halfCapKbit(1801)).toBe(901);
    expect(halfCapKbit(Number.NaN)).toBe(NOISE_KBPS_FALLBACK / 2);
    expect(halfCapKbit(0)).toBe(NOISE_KBPS_FALLBACK / 2);
  });
  test("recoveryMs: the longest presentation gap is the outage, measured from the last arrival before it + the outage", () => {
    const ts = [timing(0, 5), timing(33, 38), timing(66, null), timing(70, 72), timing(1300, 1310), timing(1333, 1340)];
    expect(recoveryMs(ts, 1000)).toBe(1310 - (70 + 1000));
    expect(recoveryMs([timing(0, 5), timing(33, 38), timing(66, 71)], 1000)).toBeNaN();
    expect(recoveryMs([timing(0, 5)], 1000)).toBeNaN();
  });
  test("netGoals: each key with its value and whether the goal was met", () => {
    const g = Object.fromEntries(netGoals(rows).map((x) => [x.key, x]));
    expect(g.net_g2g_ms_p50_delay50).toMatchObject({ value: 56, met: true });
    expect(g.net_g2g_ms_p95_loss1!.met).toBe(false); // 19.25 > 2 × 7.8
    expect(g.net_g2g_ms_p95_loss1!.goal).toBe("≤ 2 × unimpaired p95 (15.6)");
    expect(g.net_delivered_pct_loss5).toMatchObject({ value: 97, met: true });
    expect(g.net_freezes_per_min_loss5).toMatchObject({ value: 4, met: false });
    expect(g.net_g2g_ms_p95_cap_half!.met).toBe(true); // 49 ≤ 3 × 19.5
    expect(g.net_recover_ms_blackout1s).toMatchObject({ value: 120, met: true });
    expect(netGoals([]).every((x) => Number.isNaN(x.value) && !x.met)).toBe(true);
  });
  test("netJson: the BENCH keys, null where not measured", () => {
    expect(netJson(rows).net_recover_ms_blackout1s).toBe(120);
    expect(JSON.parse(JSON.stringify(netJson([])))).toEqual({
      net_g2g_ms_p50_delay50: null, net_g2g_ms_p95_loss1: null, net_delivered_pct_loss5: null,
      net_freezes_per_min_loss5: null, net_g2g_ms_p95_cap_half: null, net_recover_ms_blackout1s: null,
    });
  });
  test("netMatrix: one line per row with its link, the goals beside the figures, nothing when unmeasured", () => {
    const md = netMatrix(rows).join("\n");
    expect(md).toContain("| delay50 | `MEDIA_NET_EGRESS=delay=50ms` | 56.0 / 57.8 |");
    expect(md).toContain("| blackout1s; recovery 120 ms |");
    expect(md).toContain("| cap_half_no_cc; **session ended in the window** (error: ICE failed): getStats totals lost |");
    expect(md).toContain("| `net_freezes_per_min_loss5` | 4.0 | ≤ 2 | not met |");
    expect(md).toContain("| `net_recover_ms_blackout1s` | 120.0 | ≤ 500 | met |");
    expect(netMatrix(rows.slice(0, 1)).join("\n")).toContain("| `net_recover_ms_blackout1s` | – | ≤ 500 | not measured |");
    expect(netMatrix([])).toEqual([]);
  });
});
