/**
 * The network matrix of issue 15: the conditions (link emulator settings, docs/network-lab.md), the blackout
 * recovery figure, the `net_*` keys of the BENCH line with their goals, and the matrix of docs/benchmarks.md.
 */
import { round } from "@ballstream/testing";
import type { NetRow } from "./results.ts";
import type { FrameTiming } from "./stages.ts";

/** Length of the blackout row's outage (ms). */
export const BLACKOUT_MS = 1000;
/** When the blackout starts after the session's answer (ms): inside the measurement window. */
export const BLACKOUT_AT_MS = 7000;
/** The noise scene's unconstrained bitrate when it was not measured (kbit/s): media's figure (docs/media.md). */
export const NOISE_KBPS_FALLBACK = 1800;

/** One row's condition. `env` gets the cap (kbit/s) the capped rows use. */
export interface NetCondition {
  readonly id: string;
  readonly label: string;
  readonly scene: "flat" | "noise";
  /** Row measured from this many ms after the link was made (the cap rows: 5 s after the cap starts). */
  readonly warmupMs?: number;
  /** Length of the measured window (ms) when not the matrix's default (the cap rows: 5–15 s after the cap starts). */
  readonly windowMs?: number;
  /** The link may let nothing decode (no reports come back): measure once the session streams. */
  readonly streamingOnly?: boolean;
  env(capKbit: number): Record<string, string>;
}

/** The rows, in the order they run (the noise row before the caps, whose rate comes from it). */
export const NET_CONDITIONS: readonly NetCondition[] = [
  { id: "unimpaired", label: "unimpaired", scene: "flat", env: () => ({}) },
  { id: "delay50", label: "+50 ms one way (media egress)", scene: "flat", env: () => ({ MEDIA_NET_EGRESS: "delay=50ms" }) },
  { id: "loss1", label: "1 % random loss, each way", scene: "flat", env: () => ({ MEDIA_NET_EGRESS: "loss=1%,seed=1", MEDIA_NET_INGRESS: "loss=1%,seed=2" }) },
  { id: "loss5", label: "5 % random loss, each way", scene: "flat", env: () => ({ MEDIA_NET_EGRESS: "loss=5%,seed=1", MEDIA_NET_INGRESS: "loss=5%,seed=2" }) },
  { id: "noise", label: "noise scene, unimpaired", scene: "noise", env: () => ({}) },
  { id: "cap_half", label: "noise, cap = half its bitrate", scene: "noise", warmupMs: 5000, windowMs: 10_000, env: (cap) => ({ MEDIA_NET_EGRESS: `rate=${cap}kbit` }) },
  {
    id: "cap_half_no_cc",
    label: "noise, same cap, CONGESTION_RESPONSE=0",
    scene: "noise",
    warmupMs: 5000,
    windowMs: 10_000,
    streamingOnly: true,
    // Without congestion response the picture mostly stops behind the cap; signaling's watchdog would end the session
    // after 10 s without a new frame, before the window does, and its figures would be lost with it.
    env: (cap) => ({ MEDIA_NET_EGRESS: `rate=${cap}kbit`, CONGESTION_RESPONSE: "0", VIDEO_TIMEOUT_MS: "60000" }),
  },
  {
    id: "blackout1s",
    label: "1 s blackout, each way",
    scene: "flat",
    env: () => {
      const spec = `blackout=${BLACKOUT_MS}ms,blackout-at=${BLACKOUT_AT_MS}ms`;
      return { MEDIA_NET_EGRESS: spec, MEDIA_NET_INGRESS: spec };
    },
  },
];

/** Half the noise row's sender bitrate, in whole kbit/s (media's figure when it was not measured). */
export function halfCapKbit(noiseKbps: number): number {
  return Math.round((Number.isFinite(noiseKbps) && noiseKbps > 0 ? noiseKbps : NOISE_KBPS_FALLBACK) / 2);
}

/**
 * Link back → next new frame presented (ms), from the presented frames of a window with one outage: the longest gap
 * between presentations is the outage; the link went down after the last frame before it arrived, so it came back
 * `blackoutMs` after that arrival (an upper bound of the recovery by less than one frame interval). NaN without a gap
 * longer than the outage's half.
 */
export function recoveryMs(timings: readonly FrameTiming[], blackoutMs: number): number {
  const shown = timings.filter((t): t is FrameTiming & { presentedMs: number } => t.presentedMs !== null).sort((a, b) => a.presentedMs - b.presentedMs);
  const gap = (i: number) => shown[i]!.presentedMs - shown[i - 1]!.presentedMs;
  let at = 1;
  for (let i = 2; i < shown.length; i++) if (gap(i) > gap(at)) at = i;
  const [before, after] = [shown[at - 1], shown[at]];
  if (!before || !after || after.presentedMs - before.presentedMs < blackoutMs / 2) return Number.NaN;
  return after.presentedMs - ((before.receiveMs ?? before.presentedMs) + blackoutMs);
}

/** One key of the BENCH line with its goal. */
export interface NetGoal {
  readonly key: string;
  readonly goal: string;
  readonly value: number;
  /** The goal met (false when not measured: see `value`). */
  readonly met: boolean;
}

/** The `net_*` figures and their goals (issue 15), from the matrix's rows. */
export function netGoals(rows: readonly NetRow[]): NetGoal[] {
  const row = (id: string) => rows.find((r) => r.id === id);
  const nan = Number.NaN;
  const g = (key: string, goal: string, value: number, limit: number, atMost: boolean): NetGoal => ({
    key,
    goal,
    value,
    met: atMost ? value <= limit : value >= limit,
  });
  const p95 = row("unimpaired")?.run.g2g.p95 ?? nan;
  const noiseP95 = row("noise")?.run.g2g.p95 ?? nan;
  const loss5 = row("loss5")?.run;
  return [
    g("net_g2g_ms_p50_delay50", "≤ 56", row("delay50")?.run.g2g.p50 ?? nan, 56, true),
    g("net_g2g_ms_p95_loss1", `≤ 2 × unimpaired p95 (${fmt(2 * p95)})`, row("loss1")?.run.g2g.p95 ?? nan, 2 * p95, true),
    g("net_delivered_pct_loss5", "≥ 95", loss5?.deliveredPct ?? nan, 95, false),
    g("net_freezes_per_min_loss5", "≤ 2", loss5?.freezesPerMin ?? nan, 2, true),
    g("net_g2g_ms_p95_cap_half", `≤ 3 × unimpaired noise p95 (${fmt(3 * noiseP95)})`, row("cap_half")?.run.g2g.p95 ?? nan, 3 * noiseP95, true),
    g("net_recover_ms_blackout1s", "≤ 500", row("blackout1s")?.recoverMs ?? nan, 500, true),
  ];
}

/** The `net_*` keys of the BENCH line (null: not measured). */
export function netJson(rows: readonly NetRow[]): Record<string, number | null> {
  return Object.fromEntries(netGoals(rows).map((g) => [g.key, round(g.value)]));
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");

/** The matrix section of docs/benchmarks.md (nothing when not measured). */
export function netMatrix(rows: readonly NetRow[]): string[] {
  if (rows.length === 0) return [];
  const out = [
    "## Network matrix (one process, 30 fps, behind the built-in link emulator)",
    "",
    "Each row is a fresh one-process system started with the link conditions in its environment (docs/network-lab.md) and one",
    "Chromium session; media's congestion response is on unless the row says otherwise. The cap is half the noise row's sender",
    "bitrate, measured from 5 s after the cap starts (the session's answer). Sender bitrate: the sender's own byte count from its",
    "RTCP sender reports (getStats `remote-outbound-rtp`); freezes: getStats `freezeCount` per minute. Blackout recovery: link back",
    "(arrival of the last frame before the outage + 1 s) → next frame presented. Frames sent: the span of the reported frame ids, at",
    "least window × 30 (a row in which little decodes has few reports; g2g and errors are over the frames that did).",
    "",
    "| condition | link (env) | g2g p50 / p95 ms | real-time error p50 / p95 px | frames delivered | freezes / min | sender kbit/s | window s |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const env = Object.entries(r.env).map(([k, v]) => `\`${k}=${v}\``).join(" ") || "–";
    const x = r.run;
    const recover = `${Number.isFinite(r.recoverMs) ? `; recovery ${fmt(r.recoverMs, 0)} ms` : ""}${x.ended ? `; **session ended in the window** (${x.ended}): getStats totals lost` : ""}`;
    out.push(
      `| ${r.label}${recover} | ${env} | ${fmt(x.g2g.p50)} / ${fmt(x.g2g.p95)} | ${fmt(x.rtError.p50, 2)} / ${fmt(x.rtError.p95, 2)} | ` +
        `${x.framesDecoded} / ${x.framesGenerated} (${fmt(x.deliveredPct)} %) | ${fmt(x.freezesPerMin)} | ${fmt(x.senderKbps, 0)} | ${fmt(x.seconds)} |`,
    );
  }
  out.push("", "| BENCH key | value | goal | |", "|---|---|---|---|");
  for (const g of netGoals(rows)) out.push(`| \`${g.key}\` | ${fmt(g.value)} | ${g.goal} | ${Number.isFinite(g.value) ? (g.met ? "met" : "not met") : "not measured"} |`);
  out.push("");
  return out;
}
