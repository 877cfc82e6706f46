/**
 * The session's samples: one per error report, joining what signaling measured (truths, errors, latency) with
 * what only the page knows (presentation time, detection time), for the live view and for download as CSV/JSON.
 */
import type { ErrorReport } from "@ballstream/shared/wt-protocol";
import type { JoinedFrame } from "./frame-joiner.ts";

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

/** Builds a {@link Sample} from a report and the page's record of that frame (if still known). */
export function sampleOf(report: ErrorReport, frame: JoinedFrame | undefined): Sample {
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

/** Bounded log: frames sent (awaiting their report) and the samples made from reports. */
export class SampleLog {
  readonly #sent = new Map<number, JoinedFrame>();
  readonly #samples: Sample[] = [];
  readonly #maxSamples: number;
  readonly #maxPending: number;

  constructor(maxSamples = 100_000, maxPending = 256) {
    this.#maxSamples = maxSamples;
    this.#maxPending = maxPending;
  }

  /** Remembers a frame whose coordinates were sent. */
  sent(frame: JoinedFrame): void {
    this.#sent.set(frame.rtpTimestamp >>> 0, frame);
    if (this.#sent.size > this.#maxPending) this.#sent.delete(this.#sent.keys().next().value!);
  }

  /** Records a report; returns its sample. The oldest samples go once `maxSamples` is reached. */
  report(report: ErrorReport): Sample {
    const key = report.rtpTimestamp >>> 0;
    const sample = sampleOf(report, this.#sent.get(key));
    this.#sent.delete(key);
    this.#samples.push(sample);
    if (this.#samples.length > this.#maxSamples) this.#samples.splice(0, this.#samples.length - this.#maxSamples);
    return sample;
  }

  /** A copy of the samples, oldest first. */
  samples(): Sample[] {
    return this.#samples.slice();
  }

  /** How many samples are held. */
  get size(): number {
    return this.#samples.length;
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
