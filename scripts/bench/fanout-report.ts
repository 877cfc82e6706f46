/** The fan-out run (./fanout.ts) in the BENCH line and docs/benchmarks.md: keys, goals (issue 19), table, what limited it. */
import { type TreeCpu, round } from "@ballstream/testing";
import { cpuCell, cpuLimit, cpuSlope, treesCpuPct } from "./cpu.ts";
import type { FanoutResult, FanoutStep } from "./results.ts";
import { type PromSample, metricValue } from "./prom.ts";

/** Frames media dropped ÷ frames it received (dropped + sent) between two scrapes of its /metrics, % (NaN without frames). */
export function sourceDroppedPct(before: readonly PromSample[], after: readonly PromSample[]): number {
  const d = (name: string) => metricValue(after, name) - metricValue(before, name);
  const dropped = d("ballstream_media_frames_dropped_total");
  const all = dropped + d("ballstream_media_frames_sent_total");
  return all > 0 ? (100 * dropped) / all : Number.NaN;
}

/** Whether a measured process tree is the server of a channel's viewers: generator, signaling and every media replica ("media", "media 2", …; nats-server is shown apart). */
export function isFanoutServerTree(name: string): boolean {
  return name === "generator" || name === "signaling" || /^media( \d+)?$/.test(name);
}

/** The server's trees among a step's measured ones. */
const serverTrees = (cpu: readonly TreeCpu[]) => cpu.map((c) => c.name).filter(isFanoutServerTree);
/** Issue 19's goals on this machine: viewers of one 30 fps channel, and a channel viewer's g2g against a private session's. */
export const FANOUT_TARGETS = { viewers30: 200, g2gRatio: 1.5, ratioViewers: 100 } as const;

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");
const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} %` : "–");

/** Server CPU of a fan-out window: generator + media (+ ffmpeg) + signaling, % of one core. */
export function fanoutServerCpuPct(step: Pick<FanoutStep, "cpu">): number {
  return treesCpuPct(step.cpu, serverTrees(step.cpu));
}

/** Server CPU per added viewer, % of a core: the slope between the first and last step that held (NaN without two). */
export function channelCpuPerViewer(fanout: FanoutResult | null): number {
  const steps = fanout?.steps ?? [];
  return cpuSlope(steps, serverTrees(steps[0]?.cpu ?? []));
}

/** The last window measured at `viewers` (a failing count's second window), if that count was reached. */
export function stepAt(fanout: FanoutResult | null, viewers: number): FanoutStep | undefined {
  return fanout?.steps.filter((s) => s.sessions === viewers).at(-1);
}

/** The probe's g2g in the channel at `viewers` over the private session's: p50 and p95 ratios, and the larger of the two. */
export function g2gRatios(fanout: FanoutResult | null, viewers: number = FANOUT_TARGETS.ratioViewers): { p50: number; p95: number; worst: number } {
  const step = stepAt(fanout, viewers);
  const p50 = step && fanout ? step.probeG2g.p50 / fanout.privateG2g.p50 : Number.NaN;
  const p95 = step && fanout ? step.probeG2g.p95 / fanout.privateG2g.p95 : Number.NaN;
  return { p50, p95, worst: Number.isNaN(p50) || Number.isNaN(p95) ? Number.NaN : Math.max(p50, p95) };
}

/** One BENCH key of the fan-out run with its goal, if it has one. */
export interface FanoutGoal {
  readonly key: string;
  readonly value: number;
  readonly goal: string;
  /** Whether the goal was met (null: no goal, a figure only). */
  readonly met: boolean | null;
}

/** The fan-out's numeric BENCH keys (NaN: not measured) and their goals. */
export function fanoutGoals(fanout: FanoutResult | null): FanoutGoal[] {
  const at = stepAt(fanout, FANOUT_TARGETS.ratioViewers);
  const r = g2gRatios(fanout);
  const v = (value: number | undefined) => value ?? Number.NaN;
  const figure = (key: string, value: number): FanoutGoal => ({ key, value, goal: "", met: null });
  return [
    { key: "channel_viewers_max_30fps", value: v(fanout?.viewersMax), goal: `≥ ${FANOUT_TARGETS.viewers30}`, met: fanout ? fanout.viewersMax >= FANOUT_TARGETS.viewers30 : false },
    figure("channel_cpu_pct_per_viewer", channelCpuPerViewer(fanout)),
    figure("channel_probe_g2g_ms_p50_100", v(at?.probeG2g.p50)),
    figure("channel_probe_g2g_ms_p95_100", v(at?.probeG2g.p95)),
    figure("channel_private_g2g_ms_p50", v(fanout?.privateG2g.p50)),
    figure("channel_private_g2g_ms_p95", v(fanout?.privateG2g.p95)),
    figure("channel_probe_g2g_p50_ratio_100", r.p50),
    figure("channel_probe_g2g_p95_ratio_100", r.p95),
    { key: "channel_probe_g2g_ratio_100", value: r.worst, goal: `≤ ${FANOUT_TARGETS.g2gRatio} (the larger of the p50 and p95 ratios)`, met: r.worst <= FANOUT_TARGETS.g2gRatio },
    figure("channel_join_first_frame_ms_p50", v(fanout?.joinFirstFrame.p50)),
    figure("channel_join_first_frame_ms_p95", v(fanout?.joinFirstFrame.p95)),
    figure("channel_keyframe_wait_ms_p50", v(fanout?.keyframeWait.p50)),
    figure("channel_keyframe_wait_ms_p95", v(fanout?.keyframeWait.p95)),
  ];
}

/** The `channel_*` keys of the BENCH line (null: not measured), with why the search stopped. */
export function fanoutJson(fanout: FanoutResult | null): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = Object.fromEntries(fanoutGoals(fanout).map((g) => [g.key, round(g.value, g.key.includes("ratio") || g.key.includes("per_viewer") ? 2 : 1)]));
  out.channel_viewers_max_30fps = fanout?.viewersMax ?? null;
  out.channel_stop_reason = fanout?.stopReason ?? null;
  return out;
}

/** What held the viewer count back, from the CPU of the last window measured (the one that failed, or the largest). */
export function fanoutLimit(fanout: FanoutResult, nproc: number): string {
  const last = fanout.steps.at(-1);
  if (!last) return "nothing was measured";
  const { saturated, machinePct } = cpuLimit(last.cpu, nproc);
  const where = saturated.length > 0 ? `a core's worth of CPU in ${saturated.join(", ")}` : "no single process at a full core";
  return `At ${last.sessions} viewers (${last.failure ? "the step that failed" : "the largest step"}): ${where}; every measured process together used ${f(machinePct)} % of the ${nproc} cores (the rest: other work on the machine and what is not measured).`;
}

/** How the section names the replicas: one, or how many and who takes the units over NATS. */
function replicasText(replicas: number): string {
  return replicas === 1
    ? "one media replica"
    : `${replicas} media replicas (the queue group spreads the viewers; the one that runs the channel's encoder fans out to its own, the others take the access units over NATS)`;
}

/** The "Channels: fan-out" section of docs/benchmarks.md (nothing when not measured). */
export function fanoutSection(fanout: FanoutResult | null, nproc: number, alone?: { readonly startedAt: string; readonly loadAverage1m: number }, plot: string | null = null): string[] {
  if (!fanout) return [];
  const r = g2gRatios(fanout);
  const at = stepAt(fanout, FANOUT_TARGETS.ratioViewers);
  const out = [
    `## Channels: fan-out at ${fanout.fps} fps (${fanout.mode})`,
    "",
    ...(alone ? [`Measured on its own by \`bun run bench -- --only=fanout\` on ${alone.startedAt} (load average ${f(alone.loadAverage1m, 2)} at its start); the rest of this page comes from the run named at the top.`, ""] : []),
    `Viewers of one channel (one generator worker, one encoder; every viewer its own werift peer connection on media, fed the channel's`,
    `shared access units) on ${replicasText(fanout.mediaReplicas)}: ${fanout.receivers}. The criteria are the capacity search's: a step fails when fewer than 95 % of the frames`,
    `are delivered (light viewers or the probe) or the probe's g2g p95 exceeds twice its value alone in the channel (${f(fanout.baselineP95Ms)} ms); a failing step is`,
    `measured once more. Largest count that held: **${fanout.viewersMax}** viewers. ${fanout.stopReason}.`,
    "",
    "| viewers | source frames dropped | light delivered (packets missing) | light capture → last packet p50 / p95 ms | probe delivered | probe g2g p50 / p95 ms | viewers added: join → connected / → first frame, p50 / p95 ms | server CPU % of a core (per viewer) | CPU by process | verdict |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of fanout.steps) {
    const server = fanoutServerCpuPct(s);
    const join = s.joinFirstFrame.n > 0 ? `${s.joinFirstFrame.n}: ${f(s.joinConnected.p50, 0)} / ${f(s.joinConnected.p95, 0)}; ${f(s.joinFirstFrame.p50, 0)} / ${f(s.joinFirstFrame.p95, 0)}` : "–";
    out.push(
      `| ${s.sessions} | ${pct(s.sourceDroppedPct)} | ${pct(s.lightDeliveredPct)}${s.lightPacketGapPct === undefined || Number.isNaN(s.lightPacketGapPct) ? "" : ` (${f(s.lightPacketGapPct, 2)} %)`} | ${f(s.lightLatency.p50)} / ${f(s.lightLatency.p95)} | ${pct(s.probeDeliveredPct)} | ${f(s.probeG2g.p50)} / ${f(s.probeG2g.p95)} | ${join} | ` +
        `${f(server)} (${f(server / s.sessions, 2)}) | ${cpuCell(s.cpu)} | ${s.failure ?? "held"} |`,
    );
  }
  out.push(
    "",
    `Server CPU (generator + media${fanout.mediaReplicas > 1 ? " replicas" : ""} + signaling; nats-server, the probe and the light viewers apart) per added viewer: ` +
      `**${f(channelCpuPerViewer(fanout), 2)} %** of a core (slope between the first and last step that held). ${fanoutLimit(fanout, nproc)}`,
    "",
    `The probe in the channel at ${FANOUT_TARGETS.ratioViewers} viewers: g2g p50 / p95 ${f(at?.probeG2g.p50 ?? Number.NaN)} / ${f(at?.probeG2g.p95 ?? Number.NaN)} ms; ` +
      `the same probe in a private session of its own, alone, earlier in this run: ${f(fanout.privateG2g.p50)} / ${f(fanout.privateG2g.p95)} ms ` +
      `(delivered ${pct(fanout.privateDeliveredPct)}); ratio p50 ${f(r.p50, 2)}, p95 ${f(r.p95, 2)}.`,
    "",
    `A new viewer's wait, join (before its offer) → first complete frame at the light receiver, over all ${fanout.joinFirstFrame.n} joins: ` +
      `p50 ${f(fanout.joinFirstFrame.p50, 0)} ms, p95 ${f(fanout.joinFirstFrame.p95, 0)} ms, max ${f(fanout.joinFirstFrame.max, 0)} ms ` +
      `(it starts on a keyframe; the channel grants at most one per CHANNEL_KEYFRAME_GAP_MS, 500 ms). Of that, connected (ICE and DTLS up) → first frame, ` +
      `the wait for the keyframe: p50 ${f(fanout.keyframeWait.p50, 0)} ms, p95 ${f(fanout.keyframeWait.p95, 0)} ms, max ${f(fanout.keyframeWait.max, 0)} ms${fanout.joinsFailed > 0 ? `; ${fanout.joinsFailed} joins failed` : ""}.`,
    "",
    ...(plot ? [`![latency vs viewers](${plot})`, ""] : []),
    "| BENCH key | value | goal | |",
    "|---|---|---|---|",
  );
  for (const g of fanoutGoals(fanout)) {
    const verdict = g.met === null ? "" : Number.isFinite(g.value) ? (g.met ? "met" : "not met") : "not measured";
    const digits = g.key.includes("ratio") || g.key.includes("per_viewer") ? 2 : g.key.includes("_max_") ? 0 : 1;
    out.push(`| \`${g.key}\` | ${f(g.value, digits)} | ${g.goal} | ${verdict} |`);
  }
  out.push("");
  return out;
}

/** `md` with its section whose heading starts with `heading` replaced by `section` (inserted before the `before` heading, or at the end, if it has none). */
export function replaceSection(md: string, heading: string, section: readonly string[], before: string): string {
  const lines = md.replace(/\n$/, "").split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  const body = [...section];
  if (body.at(-1) !== "") body.push("");
  if (start >= 0) {
    const next = lines.findIndex((l, i) => i > start && l.startsWith("## "));
    lines.splice(start, (next < 0 ? lines.length : next) - start, ...body);
  } else {
    const at = lines.findIndex((l) => l.startsWith(before));
    lines.splice(at < 0 ? lines.length : at, 0, ...body);
  }
  return `${lines.join("\n").replace(/\n+$/, "")}\n`;
}
