import { describe, expect, test } from "bun:test";
import { parseLinkConditions } from "@ballstream/protocol";
import { TRANSPORT_CONDITIONS, type TransportRow, WT_VARIANT, transportEnv, transportGoal, transportJson, transportSection } from "../bench/transports.ts";
import { run } from "./bench-fixtures.ts";

const row = (id: string, rtc: number[] | null, wt: number[] | null): TransportRow => ({
  condition: TRANSPORT_CONDITIONS.find((c) => c.id === id)!,
  webrtc: rtc ? run("one-process", 30, rtc) : null,
  webtransport: wt ? run("one-process", 30, wt, WT_VARIANT) : null,
});

describe("transport comparison", () => {
  test("each condition puts the same link on media's and signaling's sockets; unimpaired puts none", () => {
    expect(transportEnv(TRANSPORT_CONDITIONS[0]!)).toEqual({});
    const loss = transportEnv(TRANSPORT_CONDITIONS.find((c) => c.id === "loss1")!);
    expect(loss).toEqual({ MEDIA_NET_EGRESS: "loss=1%,seed=1", MEDIA_NET_INGRESS: "loss=1%,seed=2", SIGNALING_NET_EGRESS: "loss=1%,seed=1", SIGNALING_NET_INGRESS: "loss=1%,seed=2" });
    for (const c of TRANSPORT_CONDITIONS) for (const v of Object.values(transportEnv(c))) expect(() => parseLinkConditions(v)).not.toThrow();
  });

  test("goal: p50 ≤ WebRTC's, p95 ≤ 1.5 × WebRTC's; unknown without both paths", () => {
    expect(transportGoal(row("unimpaired", [4, 10], [3, 10]))).toEqual({ p50: true, p95: true });
    expect(transportGoal(row("unimpaired", [4, 10], [5, 16]))).toEqual({ p50: false, p95: false });
    expect(transportGoal(row("unimpaired", [4, 10], null))).toBeNull();
  });

  test("BENCH keys: the WebTransport figures and the step's WebRTC ones; null when not measured", () => {
    const json = transportJson([row("unimpaired", [4, 8], [3, 9]), row("unimpaired60", [4, 6], [2, 4]), row("loss1", [5, 20], null)]);
    expect(json.wt_g2g_ms_p50_30fps).toBeCloseTo(6, 5);
    expect(json.wt_g2g_ms_p50_60fps).toBeCloseTo(3, 5);
    expect(json.wt_rt_error_px_p50_30fps).toBeCloseTo(9.5, 5);
    expect(json.wt_step_webrtc_g2g_ms_p50_30fps).toBeCloseTo(6, 5);
    expect(json.wt_g2g_ms_p50_loss1).toBeNull();
    expect(json.wt_g2g_ms_p50_delay50).toBeNull();
  });

  test("the section: a line per path and condition, CPU of browser and server, the verdict; nothing without rows", () => {
    expect(transportSection([])).toEqual([]);
    const text = transportSection([row("unimpaired", [4, 8], [3, 9]), row("delay50", [54, 58], null)]).join("\n");
    expect(text).toContain("| unimpaired | 30 | WebTransport | 6.0 / 8.7 | 9.50 | 0.300 | 440 / 450 | 50.0 | 14.0 | p50 met, p95 met |");
    expect(text).toContain("| +50 ms one way (server egress) | 30 | WebTransport | failed (notes) |");
    expect(text).toContain("CUBIC");
  });
});
