/** How the page writes its figures. */
import type { InboundStats } from "./inbound-stats.ts";

/** `v` with `digits` decimals, or "–" when there is no finite value. */
export function formatNumber(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

/** A bitrate given in kbit/s: "812 kbit/s" below 1 Mbit/s, "12.30 Mbit/s" above; "–" when unknown. */
export function formatBitrate(kbps: number | null): string {
  if (kbps === null || !Number.isFinite(kbps)) return "–";
  return kbps < 1000 ? `${kbps.toFixed(0)} kbit/s` : `${(kbps / 1000).toFixed(2)} Mbit/s`;
}

/** How many times something happened and for how long in all: "2 (1.4 s)". */
export function formatCountAndDuration(count: number, durationMs: number): string {
  return `${count} (${formatNumber(durationMs / 1000)} s)`;
}

/** One row of the receiver panel: a test id, the label and the text. */
export interface FigureRow {
  readonly id: string;
  readonly name: string;
  readonly text: string;
}

/** The receiver panel's `getStats()` rows, in order. */
export function receiverFigures(s: InboundStats): readonly FigureRow[] {
  const rtcp = s.rtcpRttMs === null ? "" : ` · ${formatNumber(s.rtcpRttMs)} ms (RTCP)`;
  const estimate = s.timestampMs === null ? "–" : s.estimateKbps === null ? "not reported (yet)" : formatBitrate(s.estimateKbps);
  const rows: [string, string, string][] = [
    ["codec", "codec", s.codec ?? "–"],
    ["frames-decoded", "frames decoded", String(s.framesDecoded)],
    ["frames-dropped", "frames dropped", String(s.framesDropped)],
    ["fps", "receive fps", formatNumber(s.framesPerSecond, 0)],
    ["bitrate", "received bitrate", formatBitrate(s.bitrateKbps)],
    ["packets-lost", "packets lost", String(s.packetsLost)],
    ["loss", "loss", `${formatNumber(s.lossPct, 2)} % (last s ${formatNumber(s.recentLossPct, 2)} %)`],
    ["feedback", "NACKs / PLIs / FIRs sent", `${s.nackCount} / ${s.pliCount} / ${s.firCount}`],
    ["freezes", "freezes", formatCountAndDuration(s.freezeCount, s.freezesDurationMs)],
    ["pauses", "pauses", formatCountAndDuration(s.pauseCount, s.pausesDurationMs)],
    ["jitter", "jitter", `${formatNumber(s.jitterMs)} ms`],
    ["jitter-buffer", "jitter buffer delay", `${formatNumber(s.jitterBufferDelayMs)} ms`],
    ["rtt", "RTT", `${formatNumber(s.rttMs)} ms (ICE)${rtcp}`],
    ["estimate", "bandwidth estimate (REMB)", estimate],
    ["transport", "ICE / DTLS", `${s.iceState} / ${s.transportState}`],
  ];
  return rows.map(([id, name, text]) => ({ id, name, text }));
}
