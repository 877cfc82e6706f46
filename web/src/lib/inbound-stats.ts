/** A summary of the receiving video's `RTCPeerConnection.getStats()` report for the stats panel and the test hook. */

/** Inbound video figures; null where the browser reported nothing (yet). */
export interface InboundStats {
  readonly codec: string | null;
  readonly framesDecoded: number;
  readonly framesDropped: number;
  readonly packetsLost: number;
  readonly framesPerSecond: number | null;
  /** Mean jitter buffer delay per emitted frame, ms. */
  readonly jitterBufferDelayMs: number | null;
  readonly frameWidth: number | null;
  readonly frameHeight: number | null;
  /** ICE/DTLS transport state (`transport.dtlsState` / `iceState`, "new" before any). */
  readonly transportState: string;
  readonly iceState: string;
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
};

type Entry = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Summarises the entries of a stats report (`[...report.values()]`). */
export function summariseInbound(entries: Iterable<Entry>): InboundStats {
  const byId = new Map<string, Entry>();
  const all: Entry[] = [];
  for (const e of entries) {
    all.push(e);
    if (typeof e.id === "string") byId.set(e.id, e);
  }
  const inbound = all.find((e) => e.type === "inbound-rtp" && e.kind === "video");
  const transport = all.find((e) => e.type === "transport");
  const codecEntry = inbound && typeof inbound.codecId === "string" ? byId.get(inbound.codecId) : undefined;
  const mime = typeof codecEntry?.mimeType === "string" ? codecEntry.mimeType.replace(/^video\//i, "") : null;
  const fmtp = typeof codecEntry?.sdpFmtpLine === "string" ? /profile-level-id=([0-9a-f]{6})/i.exec(codecEntry.sdpFmtpLine)?.[1] : undefined;
  const delay = num(inbound?.jitterBufferDelay);
  const emitted = num(inbound?.jitterBufferEmittedCount);
  return {
    codec: mime ? (fmtp ? `${mime} ${fmtp}` : mime) : null,
    framesDecoded: num(inbound?.framesDecoded) ?? 0,
    framesDropped: num(inbound?.framesDropped) ?? 0,
    packetsLost: num(inbound?.packetsLost) ?? 0,
    framesPerSecond: num(inbound?.framesPerSecond),
    jitterBufferDelayMs: delay !== null && emitted ? (1000 * delay) / emitted : null,
    frameWidth: num(inbound?.frameWidth),
    frameHeight: num(inbound?.frameHeight),
    transportState: typeof transport?.dtlsState === "string" ? transport.dtlsState : "new",
    iceState: typeof transport?.iceState === "string" ? transport.iceState : "new",
  };
}
