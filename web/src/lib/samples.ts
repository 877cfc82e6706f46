/**
 * The session's samples: one per error report, joining what signaling measured (truths, errors, latency) with
 * what only the page knows (presentation time, detection time), for the live view and for download as CSV/JSON.
 * The coordinates leave at detection, so a report usually arrives before its frame's presentation is known: report
 * and frame record are joined in either order.
 */
import type { ErrorReport } from "@ballstream/protocol";
import { FRAME_JOIN_WAIT_MS, type JoinedFrame } from "./frame-joiner.ts";
import { type Joined, KeyedJoin } from "./keyed-join.ts";

/**
 * One frame's measurements: the report's figures (positions in px, times in epoch ms, durations in ms; NaN where
 * unknown) plus what only the page knows (null where unknown).
 */
export interface Sample extends Omit<ErrorReport, "frameMatched" | "frameId"> {
  /** Null when signaling no longer had the frame's truth. */
  readonly frameId: number | null;
  readonly decodedAtMs: number | null;
  /** When the page showed the frame (null: the compositor never presented it). */
  readonly presentedAtMs: number | null;
  /** Presentation on the page minus capture (null when not presented or the frame was not matched). */
  readonly glassToGlassMs: number | null;
  readonly detectMs: number | null;
}

/** The columns of {@link toCsv}, in order. */
export const SAMPLE_COLUMNS: readonly (keyof Sample)[] = [
  "frameId", "rtpTimestamp", "captureTimeMs", "decodedAtMs", "presentedAtMs", "arrivalMs", "found", "detectedX", "detectedY",
  "frameTruthX", "frameTruthY", "nowTruthX", "nowTruthY", "realtimeErrorPx", "frameErrorPx", "latencyMs", "glassToGlassMs", "detectMs",
];

/** Builds a {@link Sample} from a report and the page's record of that frame (null: not known). */
export function sampleOf(report: ErrorReport, frame: JoinedFrame | null): Sample {
  const { frameMatched, frameId, ...figures } = report;
  const presentedAtMs = frame?.presentedAtMs ?? null;
  return {
    ...figures,
    frameId: frameMatched ? frameId : null,
    decodedAtMs: frame?.decodedAtMs ?? null,
    presentedAtMs,
    glassToGlassMs: presentedAtMs !== null && frameMatched ? presentedAtMs - report.captureTimeMs : null,
    detectMs: frame?.detectMs ?? null,
  };
}

/**
 * Bounded log: joins each error report with the page's record of its frame (from {@link FrameJoiner}, presented
 * or not), whichever comes first, into a sample. A report whose frame record does not come within `maxWaitMs`
 * becomes a sample without the page's fields; a frame record without a report (a lost datagram) is dropped.
 */
export class SampleLog {
  readonly #pending: KeyedJoin<ErrorReport, JoinedFrame>;
  readonly #samples: Sample[] = [];
  readonly #maxSamples: number;

  constructor(maxSamples = 100_000, maxWaitMs = FRAME_JOIN_WAIT_MS, maxPending = 256) {
    this.#maxSamples = maxSamples;
    this.#pending = new KeyedJoin(maxWaitMs, maxPending);
  }

  /** Records a report that arrived at `nowMs` (epoch ms); returns the samples now complete. */
  report(report: ErrorReport, nowMs: number): Sample[] {
    return this.#add(this.#pending.left(report.rtpTimestamp, report, nowMs));
  }

  /** Records a frame the page has finished with (presented or not) at `nowMs`; returns the samples now complete. */
  frame(frame: JoinedFrame, nowMs: number): Sample[] {
    return this.#add(this.#pending.right(frame.rtpTimestamp, frame, nowMs));
  }

  /** Releases the reports that waited longer than `maxWaitMs` for their frame at `nowMs`, as samples. */
  expire(nowMs: number): Sample[] {
    return this.#add(this.#pending.expire(nowMs));
  }

  /** A copy of the samples, oldest first. */
  samples(): Sample[] {
    return this.#samples.slice();
  }

  /** How many samples are held. */
  get size(): number {
    return this.#samples.length;
  }

  /** Keeps the new samples; the oldest go once `maxSamples` is reached. */
  #add(joined: readonly Joined<ErrorReport, JoinedFrame>[]): Sample[] {
    const added = joined.map(({ left, right }) => sampleOf(left, right));
    this.#samples.push(...added);
    if (this.#samples.length > this.#maxSamples) this.#samples.splice(0, this.#samples.length - this.#maxSamples);
    return added;
  }
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "";
  return String(v);
}

/** CSV with a header row of {@link SAMPLE_COLUMNS}; unknown values are empty cells. */
export function toCsv(samples: readonly Sample[]): string {
  const lines = [SAMPLE_COLUMNS.join(",")];
  for (const s of samples) lines.push(SAMPLE_COLUMNS.map((k) => csvCell(s[k])).join(","));
  return `${lines.join("\n")}\n`;
}

/** JSON document `{ sessionId, settings, samples }`; NaN becomes null. */
export function toJson(samples: readonly Sample[], meta: Record<string, unknown>): string {
  return JSON.stringify({ ...meta, samples }, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 1);
}
