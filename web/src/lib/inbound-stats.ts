/** A summary of the receiving video's `RTCPeerConnection.getStats()` report for the stats panel and the test hook. */
import { type IntervalRates, type StatsCounters, intervalRates, lossPercent } from "./stats-delta.ts";

/**
 * Inbound video figures: counters since the stream began, and rates since the previous report (the first report:
 * since the start); null where the browser reported nothing (yet).
 */
export interface InboundStats extends StatsCounters, IntervalRates {
  readonly codec: string | null;
  readonly framesDecoded: number;
  readonly framesDropped: number;
  readonly framesPerSecond: number | null;
  readonly frameWidth: number | null;
  readonly frameHeight: number | null;
  /** ICE/DTLS transport state (`transport.dtlsState` / `iceState`, "new" before any). */
  readonly transportState: string;
  readonly iceState: string;
  /** Packets lost of those expected since the stream began, % (negative `packetsLost`, from duplicates, counts as 0). */
  readonly lossPct: number | null;
  /** NACKs, PLIs and FIRs the receiver sent. */
  readonly nackCount: number;
  readonly pliCount: number;
  readonly firCount: number;
  /** Freezes the receiver counted (`freezeCount`) and their total duration, ms. */
  readonly freezeCount: number;
  readonly freezesDurationMs: number;
  /** Pauses (no frame for 5 s or more) and their total duration, ms. */
  readonly pauseCount: number;
  readonly pausesDurationMs: number;
  /** RTP interarrival jitter, ms. */
  readonly jitterMs: number | null;
  /** Round trip of the selected ICE candidate pair (STUN consent checks), ms. */
  readonly rttMs: number | null;
  /** Round trip from the sender's RTCP (remote-outbound-rtp; null unless the sender reports DLRR), ms. */
  readonly rtcpRttMs: number | null;
  /** The receiver's estimate of the bandwidth available to it (candidate-pair `availableIncomingBitrate`), kbit/s; null: not reported. */
  readonly estimateKbps: number | null;
}

/** Before the first report. */
export const NO_INBOUND_STATS: InboundStats = {
  codec: null,
  framesDecoded: 0,
  framesDropped: 0,
  packetsLost: 0,
  framesPerSecond: null,
  jitterBufferDelayMs: null,
  frameWidth: null,
  frameHeight: null,
  transportState: "new",
  iceState: "new",
  timestampMs: null,
  bytesReceived: 0,
  packetsReceived: 0,
  jitterBufferDelaySumMs: 0,
  jitterBufferEmittedCount: 0,
  bitrateKbps: null,
  lossPct: null,
  recentLossPct: null,
  nackCount: 0,
  pliCount: 0,
  firCount: 0,
  freezeCount: 0,
  freezesDurationMs: 0,
  pauseCount: 0,
  pausesDurationMs: 0,
  jitterMs: null,
  rttMs: null,
  rtcpRttMs: null,
  estimateKbps: null,
};

type Entry = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
/** Seconds → ms, or null. */
const ms = (v: unknown): number | null => {
  const s = num(v);
  return s === null ? null : 1000 * s;
};

/**
 * Summarises the entries of a stats report (`[...report.values()]`); the rates are taken against `previous`, the
 * summary of the report before (about a second earlier).
 */
export function summariseInbound(entries: Iterable<Entry>, previous: InboundStats = NO_INBOUND_STATS): InboundStats {
  const byId = new Map<string, Entry>();
  const all: Entry[] = [];
  for (const e of entries) {
    all.push(e);
    if (typeof e.id === "string") byId.set(e.id, e);
  }
  const entry = (id: unknown) => (typeof id === "string" ? byId.get(id) : undefined);
  const inbound = all.find((e) => e.type === "inbound-rtp" && e.kind === "video");
  const transport = all.find((e) => e.type === "transport");
  const pair = entry(transport?.selectedCandidatePairId) ?? all.find((e) => e.type === "candidate-pair" && e.nominated === true && e.state === "succeeded");
  const remote = entry(inbound?.remoteId);
  const codecEntry = entry(inbound?.codecId);
  const mime = typeof codecEntry?.mimeType === "string" ? codecEntry.mimeType.replace(/^video\//i, "") : null;
  const fmtp = typeof codecEntry?.sdpFmtpLine === "string" ? /profile-level-id=([0-9a-f]{6})/i.exec(codecEntry.sdpFmtpLine)?.[1] : undefined;
  const count = (k: string) => num(inbound?.[k]) ?? 0;
  const counters: StatsCounters = {
    timestampMs: inbound ? num(inbound.timestamp) : null,
    bytesReceived: count("bytesReceived"),
    packetsReceived: count("packetsReceived"),
    packetsLost: count("packetsLost"),
    jitterBufferDelaySumMs: ms(inbound?.jitterBufferDelay) ?? 0,
    jitterBufferEmittedCount: count("jitterBufferEmittedCount"),
  };
  const available = num(pair?.availableIncomingBitrate);
  return {
    codec: mime ? (fmtp ? `${mime} ${fmtp}` : mime) : null,
    framesDecoded: count("framesDecoded"),
    framesDropped: count("framesDropped"),
    framesPerSecond: num(inbound?.framesPerSecond),
    frameWidth: num(inbound?.frameWidth),
    frameHeight: num(inbound?.frameHeight),
    transportState: typeof transport?.dtlsState === "string" ? transport.dtlsState : "new",
    iceState: typeof transport?.iceState === "string" ? transport.iceState : "new",
    ...counters,
    ...intervalRates(previous, counters),
    lossPct: lossPercent(counters.packetsReceived, counters.packetsLost),
    nackCount: count("nackCount"),
    pliCount: count("pliCount"),
    firCount: count("firCount"),
    freezeCount: count("freezeCount"),
    freezesDurationMs: ms(inbound?.totalFreezesDuration) ?? 0,
    pauseCount: count("pauseCount"),
    pausesDurationMs: ms(inbound?.totalPausesDuration) ?? 0,
    jitterMs: ms(inbound?.jitter),
    rttMs: ms(pair?.currentRoundTripTime),
    rtcpRttMs: num(remote?.roundTripTimeMeasurements) ? ms(remote?.roundTripTime) : null,
    estimateKbps: available === null ? null : available / 1000,
  };
}
