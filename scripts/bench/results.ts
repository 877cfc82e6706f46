/** The shapes of everything `bun run bench` measures (what the report and the BENCH line are made from). */
import type { MachineInfo } from "./machine.ts";
import type { TreeCpu, Summary } from "@ballstream/testing";
import type { Stage } from "./stages.ts";
import type { TransportRow } from "./transports.ts";

/** The two ways ballstream runs. */
export type Mode = "one-process" | "nats";

/** One Chromium session measured at one fps in one mode. */
export interface RunResult {
  readonly mode: Mode;
  readonly fps: number;
  /** Label of a tuning variant ("" for the baseline). */
  readonly variant: string;
  readonly seconds: number;
  /** Presentation − capture, from the page's samples. */
  readonly g2g: Summary;
  /** The browser's expected display time (rVFC `expectedDisplayTime`) − capture, from the page's samples. */
  readonly g2gExpected: Summary;
  /** Presentation − the browser's own capture time (rVFC `captureTime`, else abs-capture-time), from the page's samples. */
  readonly g2gBrowser: Summary;
  /** Arrival of the coordinates at signaling − capture. */
  readonly latency: Summary;
  readonly rtError: Summary;
  readonly frameError: Summary;
  readonly framesGenerated: number;
  readonly framesDecoded: number;
  readonly framesPresented: number;
  readonly framesDropped: number;
  readonly packetsLost: number;
  /** Decoded ÷ generated, %. */
  readonly deliveredPct: number;
  readonly receiveFps: number;
  /** getStats freezeCount per minute of the window. */
  readonly freezesPerMin: number;
  /** Sender bitrate (kbit/s) from its RTCP sender reports. */
  readonly senderKbps: number;
  /** How the session had ended by the window's end (page status and error), null if it still streamed. */
  readonly ended: string | null;
  readonly cpu: readonly TreeCpu[];
  readonly stages: readonly Stage[];
  /** [seconds since window start, glass-to-glass ms] of every presented frame. */
  readonly series: ReadonlyArray<readonly [number, number]>;
}

/** One load level of the capacity run. */
export interface CapacityStep {
  /** Sessions in total: the Chromium probe plus the light receivers. */
  readonly sessions: number;
  readonly lightSessions: number;
  /** Light receivers: frames complete ÷ frames the generator published, %. */
  readonly lightDeliveredPct: number;
  /** Light receivers: RTP packets missing from their sequence numbers (lost on the way, before retransmission) ÷ packets received, %. */
  readonly lightPacketGapPct?: number;
  /** Light receivers: last packet of a frame received − capture (server + loopback), ms. */
  readonly lightLatency: Summary;
  readonly probeDeliveredPct: number;
  readonly probeG2g: Summary;
  readonly cpu: readonly TreeCpu[];
  /** Why this step failed the capacity criteria (null: it held). */
  readonly failure: string | null;
}

/** The capacity run at one fps. */
export interface CapacityResult {
  readonly fps: number;
  readonly mode: Mode;
  /** What the extra sessions were. */
  readonly receivers: string;
  readonly baselineP95Ms: number;
  readonly steps: readonly CapacityStep[];
  /** Largest session count that held. */
  readonly sessionsMax: number;
  /** Why the run stopped adding sessions. */
  readonly stopReason: string;
}

/** One load level of the fan-out run: {@link CapacityStep} with viewers of one channel as its light receivers. */
export interface FanoutStep extends CapacityStep {
  /** Viewers that joined for this step: join started (before the offer) → media's answer, ms. */
  readonly joinAnswered: Summary;
  /** Viewers that joined for this step: join started → their peer connection connected (ICE and DTLS up), ms. */
  readonly joinConnected: Summary;
  /** Viewers that joined for this step: join started → first complete frame at the light receiver, ms. */
  readonly joinFirstFrame: Summary;
  /**
   * Frames media received from the generator but did not encode (its encoder drops a frame while the previous one
   * is still inside), % over the window: the channel's source is media's only encoder here, so a drop is every viewer's.
   */
  readonly sourceDroppedPct: number;
}

/** The fan-out run: viewers of one channel (one generator, one encoder) stepping up beside a Chromium probe in it. */
export interface FanoutResult {
  readonly fps: number;
  readonly mode: Mode;
  /** The channel's name and its source session id. */
  readonly channel: string;
  readonly source: string;
  /** What the viewers were. */
  readonly receivers: string;
  /** Media replicas the viewers were spread over by the queue group (the channel's encoder runs on one of them). */
  readonly mediaReplicas: number;
  /** The same probe in a private session of its own, alone, in the same run (what a channel viewer is compared with). */
  readonly privateG2g: Summary;
  readonly privateDeliveredPct: number;
  /** The probe's p95 alone in the channel (the 2× criterion's reference). */
  readonly baselineP95Ms: number;
  readonly steps: readonly FanoutStep[];
  /** Largest viewer count (probe included) that held. */
  readonly viewersMax: number;
  readonly stopReason: string;
  /** Every light viewer's join → first complete frame, ms (all steps). */
  readonly joinFirstFrame: Summary;
  /** Every light viewer's connected → first complete frame (its wait for a keyframe plus one frame's delivery), ms. */
  readonly keyframeWait: Summary;
  /** Joins that failed (media refused or did not answer). */
  readonly joinsFailed: number;
}

/** One row of the network matrix: a one-process run behind the link emulator. */
export interface NetRow {
  /** Stable id of the condition (see NET_CONDITIONS in network.ts). */
  readonly id: string;
  readonly label: string;
  /** The environment the system ran with (link conditions, CONGESTION_RESPONSE). */
  readonly env: Readonly<Record<string, string>>;
  readonly run: RunResult;
  /** Blackout rows: link back → next new frame presented (ms); NaN elsewhere. */
  readonly recoverMs: number;
}

/** The printed figures of one package benchmark. */
export interface SubBenchmark {
  readonly name: string;
  readonly command: string;
  readonly lines: readonly string[];
  /** Numbers the report and the stage table use, by key. */
  readonly figures: Readonly<Record<string, number>>;
  readonly error: string | null;
}

/** Everything one `bun run bench` measured. */
export interface BenchResults {
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  /** 1-minute load average when the benchmark ended. */
  readonly loadAverageEnd: number;
  readonly runs: readonly RunResult[];
  readonly capacity: CapacityResult | null;
  /** The channel fan-out run (null when not measured). */
  readonly fanout: FanoutResult | null;
  /** The network matrix (empty when not measured). */
  readonly network: readonly NetRow[];
  /** WebRTC vs WebTransport per condition (empty when not measured). */
  readonly transports: readonly TransportRow[];
  readonly subBenchmarks: readonly SubBenchmark[];
  /** Problems met along the way (a failed step is reported, not hidden). */
  readonly notes: readonly string[];
}
