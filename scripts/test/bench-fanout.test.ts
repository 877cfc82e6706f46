import { describe, expect, test } from "bun:test";
import { keyframeWaits } from "../bench/fanout.ts";
import { FANOUT_TARGETS, channelCpuPerViewer, sourceDroppedPct, fanoutGoals, fanoutJson, fanoutLimit, fanoutSection, fanoutServerCpuPct, g2gRatios, isFanoutServerTree, replaceSection, stepAt } from "../bench/fanout-report.ts";
import { probeUrl } from "../bench/browser-probe.ts";
import { fanout } from "./bench-fixtures.ts";

describe("fan-out figures", () => {
  test("keyframeWaits: connected → first frame per viewer that got both", () => {
    expect(keyframeWaits({ connectedMs: [200, null, 300, 100], firstFrameMs: [700, 800, null, 150] })).toEqual([500, 50]);
  });
  test("server CPU is generator + media (with ffmpeg) + signaling, not nats-server or the receivers; per viewer the slope over the steps that held", () => {
    expect(fanoutServerCpuPct(fanout.steps[0]!)).toBe(20);
    expect(channelCpuPerViewer(fanout)).toBeCloseTo(20 / 99, 10); // media 10 → 30 % from 1 to 100 viewers
    expect(channelCpuPerViewer(null)).toBeNaN();
  });
  test("every media replica is server: media, media 2, …; not nats-server, the probe or the receivers", () => {
    expect(["generator", "media", "media 2", "media 12", "signaling"].every(isFanoutServerTree)).toBe(true);
    expect(["nats-server", "chromium", "light receivers", "media2", "mediator"].some(isFanoutServerTree)).toBe(false);
    const step = fanout.steps[0]!;
    expect(fanoutServerCpuPct({ cpu: [...step.cpu, { name: "media 2", selfPct: 4, childrenPct: 1 }] })).toBe(25);
  });
  test("the step at 100 viewers and the ratios against the private session", () => {
    expect(stepAt(fanout, 100)?.probeG2g.p95).toBeCloseTo(10.7, 10);
    expect(stepAt(fanout, 200)?.failure).toContain("21.0 ms"); // a failing count's second window
    expect(stepAt(fanout, 50)).toBeUndefined();
    const r = g2gRatios(fanout);
    expect(r.p50).toBeCloseTo(8 / 6, 10);
    expect(r.p95).toBeCloseTo(10.7 / 7.8, 10);
    expect(r.worst).toBe(Math.max(r.p50, r.p95));
    expect(g2gRatios(fanout, 50).worst).toBeNaN();
  });
  test("goals: viewers ≥ 200 and the ratio ≤ 1.5, judged; the rest are figures", () => {
    const goals = Object.fromEntries(fanoutGoals(fanout).map((g) => [g.key, g]));
    expect(goals.channel_viewers_max_30fps).toMatchObject({ value: 100, met: false });
    expect(goals.channel_probe_g2g_ratio_100!.met).toBe(g2gRatios(fanout).worst <= FANOUT_TARGETS.g2gRatio);
    expect(goals.channel_probe_g2g_ratio_100!.met).toBe(true);
    expect(goals.channel_cpu_pct_per_viewer!.met).toBeNull();
    expect(fanoutGoals({ ...fanout, viewersMax: 250 })[0]!.met).toBe(true);
  });
  test("the BENCH keys, null when not measured", () => {
    const b = fanoutJson(fanout);
    expect(b.channel_viewers_max_30fps).toBe(100);
    expect(b.channel_cpu_pct_per_viewer).toBe(0.2);
    expect(b.channel_probe_g2g_ms_p50_100).toBe(8);
    expect(b.channel_private_g2g_ms_p95).toBe(7.8);
    expect(b.channel_join_first_frame_ms_p50).toBe(600);
    expect(b.channel_keyframe_wait_ms_p95).toBe(435);
    expect(b.channel_stop_reason).toContain("200 viewers failed");
    const none = fanoutJson(null);
    expect(none.channel_viewers_max_30fps).toBeNull();
    expect(none.channel_probe_g2g_ratio_100).toBeNull();
    expect(JSON.parse(JSON.stringify(b))).toEqual(b);
  });
  test("what limited it: the saturated process at the last window, and the machine's share", () => {
    const text = fanoutLimit(fanout, 2);
    expect(text).toContain("At 200 viewers (the step that failed)");
    expect(text).toContain("media (96.0 %)");
    expect(fanoutLimit({ ...fanout, steps: fanout.steps.slice(0, 3) }, 2)).toContain("no single process at a full core");
  });
});

describe("fan-out report", () => {
  test("the section has every step with its joins and CPU by process, the per-viewer CPU, the ratio, the wait and the keys", () => {
    const md = fanoutSection(fanout, 2).join("\n");
    expect(md).toContain("## Channels: fan-out at 30 fps (nats)");
    expect(md).toContain("Largest count that held: **100** viewers. 200 viewers failed");
    expect(md).toContain("shared access units) on 2 media replicas (the queue group spreads the viewers;");
    expect(md).toContain("Server CPU (generator + media replicas + signaling;");
    expect(fanoutSection({ ...fanout, mediaReplicas: 1 }, 2).join("\n")).toContain("shared access units) on one media replica: 1 probe");
    expect(md).toContain("| 100 | 0.0 % | 99.0 % | 5.0 / 5.9 | 100.0 % | 8.0 / 10.7 | 2: 250 / 295; 750 / 885 | 40.0 (0.40) | generator 3.0; media 30.0 + 5.0 children; signaling 2.0; nats-server 7.0; light receivers 50.0 | held |");
    expect(md).toContain("| 1 | 0.0 % | – |");
    expect(md).toContain("| 200 | 4.0 % |");
    expect(fanoutSection({ ...fanout, steps: [{ ...fanout.steps[1]!, lightPacketGapPct: 0.5 }] }, 2).join("\n")).toContain("| 10 | 0.0 % | 99.0 % (0.50 %) |");
    expect(md).toContain("**0.20 %** of a core");
    expect(md).toContain("ratio p50 1.33, p95 1.37");
    expect(md).toContain("p50 600 ms, p95 1860 ms");
    expect(md).toContain("| `channel_probe_g2g_ratio_100` | 1.37 | ≤ 1.5 (the larger of the p50 and p95 ratios) | met |");
    expect(md).toContain("| `channel_viewers_max_30fps` | 100 | ≥ 200 | not met |");
    expect(md).not.toContain("Measured on its own");
    expect(md).not.toContain("\n\n\n");
    const withPlot = fanoutSection(fanout, 2, undefined, "v.svg").join("\n");
    expect(withPlot).toContain("\n\n![latency vs viewers](v.svg)\n\n| BENCH key");
    expect(fanoutSection(fanout, 2, { startedAt: "2026-12-01T00:00:00Z", loadAverage1m: 3 }).join("\n")).toContain("Measured on its own by `bun run bench -- --only=fanout` on 2026-12-01T00:00:00Z");
    expect(fanoutSection(null, 2)).toEqual([]);
  });
  test("replaceSection swaps the section in place, or inserts it before the given heading, or appends it", () => {
    const md = "# B\n\n## Capacity\n\nc\n\n## Channels: fan-out at 30 fps\n\nold\n\n## Network matrix\n\nn\n";
    expect(replaceSection(md, "## Channels: fan-out", ["## Channels: fan-out at 30 fps", "", "new"], "## Network matrix")).toBe("# B\n\n## Capacity\n\nc\n\n## Channels: fan-out at 30 fps\n\nnew\n\n## Network matrix\n\nn\n");
    const without = "# B\n\n## Capacity\n\nc\n\n## Network matrix\n\nn\n";
    expect(replaceSection(without, "## Channels: fan-out", ["## Channels: fan-out", "", "new"], "## Network matrix")).toBe("# B\n\n## Capacity\n\nc\n\n## Channels: fan-out\n\nnew\n\n## Network matrix\n\nn\n");
    expect(replaceSection("# B\n", "## Channels", ["## Channels", "x"], "## Nothing")).toBe("# B\n## Channels\nx\n");
    const last = "# B\n\n## Channels: fan-out\n\nold\n";
    expect(replaceSection(last, "## Channels: fan-out", ["## Channels: fan-out", "", "new"], "## Network matrix")).toBe("# B\n\n## Channels: fan-out\n\nnew\n");
  });
});

describe("sourceDroppedPct", () => {
  const sample = (name: string, value: number) => ({ name, labels: {}, value });
  test("dropped over dropped + sent between two scrapes; NaN when no frame came", () => {
    const before = [sample("ballstream_media_frames_dropped_total", 10), sample("ballstream_media_frames_sent_total", 100)];
    const after = [sample("ballstream_media_frames_dropped_total", 13), sample("ballstream_media_frames_sent_total", 197)];
    expect(sourceDroppedPct(before, after)).toBe(3);
    expect(sourceDroppedPct(before, before)).toBeNaN();
    expect(sourceDroppedPct([], [sample("ballstream_media_frames_sent_total", 50)])).toBe(0);
  });
});

describe("probeUrl", () => {
  test("fps always; scene, WebTransport and the channel when asked", () => {
    expect(probeUrl("http://h/", 30)).toBe("http://h/?fps=30");
    expect(probeUrl("http://h/", 60, { scene: "noise", transport: "webtransport", channel: "bench-a" })).toBe("http://h/?fps=60&scene=noise&transport=webtransport&channel=bench-a");
  });
});
