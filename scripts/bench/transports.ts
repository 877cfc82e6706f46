/**
 * The transport comparison of issue 16: the same session source played over WebRTC and over WebTransport +
 * WebCodecs, back to back on one system per condition (unimpaired at 30 and 60 fps, +50 ms and 1 % loss at 30 fps),
 * the link conditions on both of its sockets (media's ICE sockets carry the WebRTC video, signaling's QUIC socket
 * the WebTransport video and both paths' coordinates), so that each pair ran under the same conditions. Its
 * `wt_*` keys of the BENCH line, the goal (WebTransport g2g p50 ≤ WebRTC's, p95 ≤ 1.5× it) and its table.
 */
import { round } from "@ballstream/testing";
import type { RunResult } from "./results.ts";

/** The variant label of WebTransport runs. */
export const WT_VARIANT = "webtransport";

/** One condition both paths are measured under. */
export interface TransportCondition {
  readonly id: string;
  readonly label: string;
  readonly fps: number;
  /** The link emulator's spec for the server's egress and ingress (none: unimpaired). */
  readonly egress?: string;
  readonly ingress?: string;
}

/** The conditions, in the order they run. */
export const TRANSPORT_CONDITIONS: readonly TransportCondition[] = [
  { id: "unimpaired", label: "unimpaired", fps: 30 },
  { id: "unimpaired60", label: "unimpaired", fps: 60 },
  { id: "delay50", label: "+50 ms one way (server egress)", fps: 30, egress: "delay=50ms" },
  { id: "loss1", label: "1 % random loss, each way", fps: 30, egress: "loss=1%,seed=1", ingress: "loss=1%,seed=2" },
];

/** The environment of a condition: the same link on media's ICE sockets and on signaling's QUIC socket. */
export function transportEnv(c: TransportCondition): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of ["MEDIA", "SIGNALING"]) {
    if (c.egress) env[`${service}_NET_EGRESS`] = c.egress;
    if (c.ingress) env[`${service}_NET_INGRESS`] = c.ingress;
  }
  return env;
}

/** Both paths measured under one condition (null: that run failed, see the notes). */
export interface TransportRow {
  readonly condition: TransportCondition;
  readonly webrtc: RunResult | null;
  readonly webtransport: RunResult | null;
}

const value = (rows: readonly TransportRow[], id: string, path: "webrtc" | "webtransport", pick: (r: RunResult) => number) => {
  const r = rows.find((x) => x.condition.id === id)?.[path];
  return r ? pick(r) : Number.NaN;
};

/** The goal on one row: WebTransport g2g p50 ≤ WebRTC's and p95 ≤ 1.5 × WebRTC's; null when a path is missing. */
export function transportGoal(row: TransportRow): { p50: boolean; p95: boolean } | null {
  const [rtc, wt] = [row.webrtc, row.webtransport];
  if (!rtc || !wt || !Number.isFinite(rtc.g2g.p50) || !Number.isFinite(wt.g2g.p50)) return null;
  return { p50: wt.g2g.p50 <= rtc.g2g.p50, p95: wt.g2g.p95 <= 1.5 * rtc.g2g.p95 };
}

/** The BENCH keys of the comparison: the WebTransport path's figures beside the WebRTC ones of the same step. */
export function transportJson(rows: readonly TransportRow[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const put = (key: string, v: number, digits = 1) => (out[key] = Number.isFinite(v) ? round(v, digits) : null);
  put("wt_g2g_ms_p50_30fps", value(rows, "unimpaired", "webtransport", (r) => r.g2g.p50));
  put("wt_g2g_ms_p95_30fps", value(rows, "unimpaired", "webtransport", (r) => r.g2g.p95));
  put("wt_g2g_ms_p50_60fps", value(rows, "unimpaired60", "webtransport", (r) => r.g2g.p50));
  put("wt_rt_error_px_p50_30fps", value(rows, "unimpaired", "webtransport", (r) => r.rtError.p50), 2);
  put("wt_step_webrtc_g2g_ms_p50_30fps", value(rows, "unimpaired", "webrtc", (r) => r.g2g.p50));
  put("wt_step_webrtc_g2g_ms_p95_30fps", value(rows, "unimpaired", "webrtc", (r) => r.g2g.p95));
  for (const id of ["delay50", "loss1"]) {
    put(`wt_g2g_ms_p50_${id}`, value(rows, id, "webtransport", (r) => r.g2g.p50));
    put(`wt_g2g_ms_p95_${id}`, value(rows, id, "webtransport", (r) => r.g2g.p95));
    put(`wt_step_webrtc_g2g_ms_p50_${id}`, value(rows, id, "webrtc", (r) => r.g2g.p50));
    put(`wt_step_webrtc_g2g_ms_p95_${id}`, value(rows, id, "webrtc", (r) => r.g2g.p95));
  }
  return out;
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");
/** % of a core of the process tree named `name` (self + children). */
const cpuOf = (r: RunResult, name: string) => r.cpu.filter((c) => c.name === name).reduce((n, c) => n + c.selfPct + c.childrenPct, 0);

/** The comparison section of docs/benchmarks.md (nothing when not measured). */
export function transportSection(rows: readonly TransportRow[]): string[] {
  if (rows.length === 0) return [];
  const out = [
    "## WebRTC vs WebTransport + WebCodecs (one process, one Chromium session at a time)",
    "",
    "Per condition one fresh one-process system with the link on both server sockets (`MEDIA_NET_*` and `SIGNALING_NET_*`); on it",
    "a WebRTC session, then a WebTransport session (`?transport=webtransport`: the access units on one unidirectional stream per",
    "GOP, WebCodecs `VideoDecoder`, the frames written into a generated track on a `<video>`). Glass-to-glass: presentation (rVFC) −",
    "capture on both paths (docs/web.md). CPU: % of one core over the window, the browser's process tree and",
    "the server process (one session each). The QUIC sender is quiche with its default congestion control, CUBIC (docs/web.md).",
    "",
    "| condition | fps | path | g2g p50 / p95 ms | real-time error p50 px | frame error p50 px | frames shown / sent | CPU browser % | CPU server % | goal |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const goal = transportGoal(row);
    for (const [path, r] of [["WebRTC", row.webrtc], ["WebTransport", row.webtransport]] as const) {
      const verdict = path === "WebTransport" && goal ? `p50 ${goal.p50 ? "met" : "not met"}, p95 ${goal.p95 ? "met" : "not met"}` : "";
      if (!r) {
        out.push(`| ${row.condition.label} | ${row.condition.fps} | ${path} | failed (notes) | | | | | | |`);
        continue;
      }
      out.push(
        `| ${row.condition.label} | ${row.condition.fps} | ${path} | ${fmt(r.g2g.p50)} / ${fmt(r.g2g.p95)} | ${fmt(r.rtError.p50, 2)} | ${fmt(r.frameError.p50, 3)} | ` +
          `${r.framesPresented} / ${r.framesGenerated} | ${fmt(cpuOf(r, "chromium"))} | ${fmt(cpuOf(r, "ballstream"))} | ${verdict} |`,
      );
    }
  }
  out.push("", "Goal: WebTransport g2g p50 ≤ the WebRTC path's in the same step, p95 ≤ 1.5 × it.", "");
  return out;
}
