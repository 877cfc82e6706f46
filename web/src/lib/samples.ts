/**
 * The session's samples: one per error report, joining what signaling measured (truths, errors, latency) with
 * what only the page knows (presentation time, detection time), for the live view and for download as CSV/JSON.
 * The coordinates leave at detection, so a report usually arrives before its frame's presentation is known: report
 * and frame record are joined in either order.
 */
import type { ErrorReport, NetworkSettings } from "@ballstream/protocol";
import { FRAME_JOIN_WAIT_MS, type JoinedFrame } from "./frame-joiner.ts";
import type { InboundStats } from "./inbound-stats.ts";
import { type Joined, KeyedJoin } from "./keyed-join.ts";

/**
 * One frame's measurements: the report's figures (positions in px, times in epoch ms, durations in ms; NaN where
 * unknown) plus what only the page knows (null where unknown).
 */
export interface Sample extends Omit<ErrorReport, "frameMatched" | "frameId"> {
  /** Null when signaling no longer had the frame's truth. */
  readonly frameId: number | null;
  readonly decodedAtMs: number | null;
  /** When the page handed the frame's coordinates to the datagram writer (null: not known). */
  readonly sentAtMs: number | null;
  /** When the page showed the frame (null: the compositor never presented it). */
  readonly presentedAtMs: number | null;
  /** Presentation on the page minus capture (null when not presented or the frame was not matched). */
  readonly glassToGlassMs: number | null;
  readonly detectMs: number | null;
  /** When the browser expected the frame to be visible (rVFC `expectedDisplayTime`; null: not said or not presented). */
  readonly expectedDisplayMs: number | null;
  /** Expected display minus capture: what a viewer with a real monitor sees (null as `glassToGlassMs`, or without it). */
  readonly glassToGlassExpectedMs: number | null;
  /** The frame's capture time by the browser's rVFC `captureTime` (null: the browser gave none). */
  readonly rvfcCaptureMs: number | null;
  /** Its capture time by the abs-capture-time extension (`getSynchronizationSources`; null: none for this frame). */
  readonly absCaptureMs: number | null;
  /** Presentation minus the browser's capture time (rVFC `captureTime`, else abs-capture-time; null: neither). */
  readonly glassToGlassBrowserMs: number | null;
}

/** The receiver's `getStats()` figures each exported sample carries, as `rx` + the {@link InboundStats} name. */
const RECEIVER_FIELDS = [
  "timestampMs", "bitrateKbps", "packetsLost", "lossPct", "recentLossPct", "nackCount", "pliCount", "firCount", "freezeCount",
  "freezesDurationMs", "pauseCount", "pausesDurationMs", "jitterMs", "jitterBufferDelayMs", "rttMs", "rtcpRttMs", "estimateKbps",
] as const satisfies readonly (keyof InboundStats)[];
type ReceiverField = (typeof RECEIVER_FIELDS)[number];
type ReceiverColumn = `rx${Capitalize<ReceiverField>}`;
const rx = (field: ReceiverField) => `rx${field[0]!.toUpperCase()}${field.slice(1)}` as ReceiverColumn;

/** The receiver's figures at a sample's frame: those of the newest `getStats()` summary taken before it (null: none yet). */
export type ReceiverColumns = { readonly [K in ReceiverField as `rx${Capitalize<K>}`]: InboundStats[K] | null };

/**
 * A sample as exported (CSV, JSON, the hook): the frame's measurements, the receiver's figures, the network setting
 * at that frame and the connection it came through.
 */
export type ExportedSample = Sample & ReceiverColumns & NetworkColumns & ConnectionColumns & ChannelColumns;

/**
 * The columns of {@link toCsv}, in order: the frame's, the receiver's (`rxBitrateKbps`, …), the network's, the
 * connection's, the channel, then the browser's display and capture times and the page's send time (last, so older
 * readers keep working).
 */
export const SAMPLE_COLUMNS: readonly (keyof ExportedSample)[] = [
  "frameId", "rtpTimestamp", "captureTimeMs", "decodedAtMs", "presentedAtMs", "arrivalMs", "found", "detectedX", "detectedY",
  "frameTruthX", "frameTruthY", "nowTruthX", "nowTruthY", "realtimeErrorPx", "frameErrorPx", "latencyMs", "glassToGlassMs", "detectMs",
  ...RECEIVER_FIELDS.map(rx), "netDown", "netUp", "connection", "gapMs", "channel",
  "expectedDisplayMs", "glassToGlassExpectedMs", "rvfcCaptureMs", "absCaptureMs", "glassToGlassBrowserMs", "sentAtMs",
];

/** Builds a {@link Sample} from a report and the page's record of that frame (null: not known). */
export function sampleOf(report: ErrorReport, frame: JoinedFrame | null): Sample {
  const { frameMatched, frameId, ...figures } = report;
  const presentedAtMs = frame?.presentedAtMs ?? null;
  const expectedDisplayMs = frame?.expectedDisplayMs ?? null;
  const sinceCapture = (t: number | null) => (t !== null && frameMatched ? t - report.captureTimeMs : null);
  const browserCaptureMs = frame?.rvfcCaptureMs ?? frame?.absCaptureMs ?? null;
  return {
    ...figures,
    frameId: frameMatched ? frameId : null,
    decodedAtMs: frame?.decodedAtMs ?? null,
    sentAtMs: frame?.sentAtMs ?? null,
    presentedAtMs,
    glassToGlassMs: sinceCapture(presentedAtMs),
    detectMs: frame?.detectMs ?? null,
    expectedDisplayMs,
    glassToGlassExpectedMs: sinceCapture(expectedDisplayMs),
    rvfcCaptureMs: frame?.rvfcCaptureMs ?? null,
    absCaptureMs: frame?.absCaptureMs ?? null,
    glassToGlassBrowserMs: presentedAtMs !== null && browserCaptureMs !== null ? presentedAtMs - browserCaptureMs : null,
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

/** The receiver's columns from one summary (all null without one). */
export function receiverColumns(stats: InboundStats | null): ReceiverColumns {
  return Object.fromEntries(RECEIVER_FIELDS.map((f) => [rx(f), stats?.[f] ?? null])) as ReceiverColumns;
}

/** Values by time (epoch ms, increasing), at most `max` (oldest dropped): which was in force at a given time. */
export class TimeLog<T> {
  readonly #times: number[] = [];
  readonly #values: T[] = [];
  readonly #max: number;

  constructor(max = 86_400) {
    this.#max = max;
  }

  /** Keeps `value` as in force from `atMs`; one not newer than the last is ignored. */
  add(atMs: number, value: T): void {
    if (atMs <= (this.#times.at(-1) ?? Number.NEGATIVE_INFINITY)) return;
    this.#times.push(atMs);
    this.#values.push(value);
    if (this.#times.length > this.#max) {
      this.#times.shift();
      this.#values.shift();
    }
  }

  /** The newest value added at or before `ms` (undefined: none); binary search. */
  at(ms: number): T | undefined {
    let lo = 0;
    let hi = this.#times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#times[mid]! <= ms) lo = mid + 1;
      else hi = mid;
    }
    return this.#values[lo - 1];
  }
}

/** The time a sample's columns are looked up at: its frame's decoding, else its report's arrival at signaling. */
const sampleTime = (s: Sample) => s.decodedAtMs ?? s.arrivalMs;

/**
 * The session's receiver summaries (one a second, at most `max`, oldest dropped), so that each exported sample
 * carries the figures in force when its frame was decoded, or when its report reached signaling for a frame the page
 * kept no record of (epoch ms; one clock when page and server share a machine).
 */
export class ReceiverLog {
  readonly #log: TimeLog<ReceiverColumns>;

  constructor(max = 86_400) {
    this.#log = new TimeLog(max);
  }

  /** Keeps a summary (one without a report time, or not newer than the last, is ignored). */
  add(stats: InboundStats): void {
    if (stats.timestampMs !== null) this.#log.add(stats.timestampMs, receiverColumns(stats));
  }

  /** The samples with the receiver's columns of each one's time. */
  annotate<S extends Sample>(samples: readonly S[]): (S & ReceiverColumns)[] {
    const none = receiverColumns(null);
    return samples.map((s) => ({ ...s, ...(this.#log.at(sampleTime(s)) ?? none) }));
  }
}

/** The session's network setting in force at a sample's frame, as the server confirmed it (null: not known yet). */
export interface NetworkColumns {
  /** The link-spec text of the way to the page ("" for none). */
  readonly netDown: string | null;
  /** The link-spec text of the way back. */
  readonly netUp: string | null;
}

/** The network settings the server confirmed, by when the page heard of them, so each sample names the one in force. */
export class NetworkLog {
  readonly #log = new TimeLog<NetworkSettings>(10_000);

  /** Keeps the setting confirmed at `atMs` (the session's start or a change). */
  add(atMs: number, network: NetworkSettings): void {
    this.#log.add(atMs, network);
  }

  /** The samples with the network columns of each one's time. */
  annotate<S extends Sample>(samples: readonly S[]): (S & NetworkColumns)[] {
    return samples.map((s) => {
      const network = this.#log.at(sampleTime(s));
      return { ...s, netDown: network?.down ?? null, netUp: network?.up ?? null };
    });
  }
}

/** Which of the page's connections a sample's frame came through, and the gap that connection resumed after. */
export interface ConnectionColumns {
  /** 1 for the first connection, one more for each reconnection (null: before the first). */
  readonly connection: number | null;
  /**
   * On the first sample of a resumed connection only: how long the page had no new frame, its frame's decode time
   * minus that of the sample before it (their reports' arrival where the page kept no record), ms; null elsewhere.
   */
  readonly gapMs: number | null;
}

/** When each connection of the page's session began, so each sample names its connection and each resumption marks its gap. */
export class ConnectionLog {
  readonly #log = new TimeLog<number>(10_000);

  /** Connection number `connection` began at `atMs`. */
  add(atMs: number, connection: number): void {
    this.#log.add(atMs, connection);
  }

  /** The samples (oldest first) with their connection, and the gap on the first one of each later connection. */
  annotate<S extends Sample>(samples: readonly S[]): (S & ConnectionColumns)[] {
    let previous: S | undefined;
    let previousConnection: number | null = null;
    return samples.map((s) => {
      const connection = this.#log.at(sampleTime(s)) ?? null;
      const resumed = previous !== undefined && connection !== null && previousConnection !== null && connection > previousConnection;
      const gapMs = resumed ? sampleTime(s) - sampleTime(previous!) : null; // capture times are NaN for unmatched frames
      previous = s;
      previousConnection = connection;
      return { ...s, connection, gapMs };
    });
  }
}

/** The broadcast channel a sample's frame was watched on. */
export interface ChannelColumns {
  /** The channel's name (`?channel=`); null: the page's own private session. */
  readonly channel: string | null;
}

/** The samples with the channel the page watches (one per page: a channel is chosen by the address). */
export function withChannel<S extends Sample>(samples: readonly S[], channel: string | null): (S & ChannelColumns)[] {
  return samples.map((s) => ({ ...s, channel }));
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "";
  const text = String(v);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text; // RFC 4180: a network spec has commas
}

/** CSV with a header row of {@link SAMPLE_COLUMNS}; unknown values (and receiver columns a sample lacks) are empty cells. */
export function toCsv(samples: readonly (Sample & Partial<ReceiverColumns> & Partial<NetworkColumns> & Partial<ConnectionColumns> & Partial<ChannelColumns>)[]): string {
  const lines = [SAMPLE_COLUMNS.join(",")];
  for (const s of samples) lines.push(SAMPLE_COLUMNS.map((k) => csvCell(s[k])).join(","));
  return `${lines.join("\n")}\n`;
}

/** JSON document `{ sessionId, settings, samples }`; NaN becomes null. */
export function toJson(samples: readonly Sample[], meta: Record<string, unknown>): string {
  return JSON.stringify({ ...meta, samples }, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 1);
}
