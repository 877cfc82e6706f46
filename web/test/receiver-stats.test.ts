import { describe, expect, test } from "bun:test";
import { formatBitrate, formatCountAndDuration, receiverFigures } from "../src/lib/format.ts";
import { type InboundStats, NO_INBOUND_STATS, summariseInbound } from "../src/lib/inbound-stats.ts";
import { paintedAt } from "../src/lib/display-times.ts";
import { NetworkLog, ReceiverLog, SAMPLE_COLUMNS, TimeLog, receiverColumns, sampleOf, toCsv } from "../src/lib/samples.ts";
import { intervalRates, lossPercent } from "../src/lib/stats-delta.ts";

/** A report as Chromium 156 gives it for the page's receive-only video (trimmed to what the summary reads, plus neighbours). */
function chromiumReport(t: number, inbound: Record<string, unknown>, pair: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    { id: "CP1", type: "candidate-pair", timestamp: t, state: "succeeded", nominated: true, currentRoundTripTime: 0.002, availableOutgoingBitrate: 300000, ...pair },
    { id: "CP2", type: "candidate-pair", timestamp: t, state: "failed", nominated: false, currentRoundTripTime: 0.9 },
    { id: "IT01V1", type: "inbound-rtp", kind: "video", timestamp: t, codecId: "C1", remoteId: "ROV1", jitter: 0.0015, packetsLost: 0,
      packetsReceived: 132, bytesReceived: 81583, firCount: 0, pliCount: 0, nackCount: 0, freezeCount: 0, totalFreezesDuration: 0,
      pauseCount: 0, totalPausesDuration: 0, jitterBufferDelay: 0.05562, jitterBufferEmittedCount: 125, framesDecoded: 125, ...inbound },
    { id: "ROV1", type: "remote-outbound-rtp", kind: "video", localId: "IT01V1", roundTripTimeMeasurements: 0, totalRoundTripTime: 0 },
    { id: "C1", type: "codec", mimeType: "video/H264", sdpFmtpLine: "packetization-mode=1;profile-level-id=42e01f" },
    { id: "T01", type: "transport", dtlsState: "connected", iceState: "connected", selectedCandidatePairId: "CP1" },
  ];
}

describe("stats-delta", () => {
  test("lossPercent: lost of received + lost; duplicates (negative loss) count as none; nothing expected gives null", () => {
    expect([lossPercent(99, 1), lossPercent(100, 0), lossPercent(100, -3), lossPercent(0, 0)]).toEqual([1, 0, 0, null]);
  });
  test("intervalRates: bitrate, loss and jitter buffer delay of the interval; a reset counter gives nulls", () => {
    const a = { timestampMs: 1000, bytesReceived: 10_000, packetsReceived: 100, packetsLost: 2, jitterBufferDelaySumMs: 300, jitterBufferEmittedCount: 30 };
    const b = { timestampMs: 2000, bytesReceived: 135_000, packetsReceived: 190, packetsLost: 12, jitterBufferDelaySumMs: 900, jitterBufferEmittedCount: 60 };
    expect(intervalRates(a, b)).toEqual({ bitrateKbps: 1000, recentLossPct: 10, jitterBufferDelayMs: 20 });
    expect(intervalRates(b, a)).toEqual({ bitrateKbps: null, recentLossPct: null, jitterBufferDelayMs: null });
    // from nothing (no earlier report): no interval for a rate, the counts since the start for the rest
    expect(intervalRates({ ...NO_INBOUND_STATS }, a)).toEqual({ bitrateKbps: null, recentLossPct: (100 * 2) / 102, jitterBufferDelayMs: 10 });
    expect(intervalRates(a, { ...a, jitterBufferEmittedCount: 30 }).jitterBufferDelayMs).toBeNull();
  });
});

describe("summariseInbound: what the receiver sees", () => {
  test("one loopback report: no loss, no freezes, the ICE RTT, no REMB figure, no bitrate yet", () => {
    const s = summariseInbound(chromiumReport(1_000_000, {}));
    expect(s).toMatchObject({ timestampMs: 1_000_000, bytesReceived: 81583, packetsReceived: 132, lossPct: 0, recentLossPct: 0, bitrateKbps: null,
      nackCount: 0, pliCount: 0, firCount: 0, freezeCount: 0, freezesDurationMs: 0, pauseCount: 0, pausesDurationMs: 0, rttMs: 2, rtcpRttMs: null,
      estimateKbps: null, codec: "H264 42e01f" });
    expect(s.jitterMs).toBeCloseTo(1.5, 9);
    expect(s.jitterBufferDelayMs).toBeCloseTo(55.62 / 125, 9);
  });
  test("the next report a second later: the rates of that second, the counters since the start", () => {
    const first = summariseInbound(chromiumReport(1_000_000, {}));
    const next = summariseInbound(chromiumReport(1_001_000, {
      bytesReceived: 81583 + 25_000, packetsReceived: 132 + 95, packetsLost: 5, nackCount: 4, pliCount: 1, firCount: 0, freezeCount: 2,
      totalFreezesDuration: 0.75, pauseCount: 1, totalPausesDuration: 5.5, jitterBufferDelay: 0.05562 + 0.6, jitterBufferEmittedCount: 155,
    }, { availableIncomingBitrate: 1_500_000, currentRoundTripTime: 0.0305 }), first);
    expect(next).toMatchObject({ bitrateKbps: 200, recentLossPct: 5, lossPct: (100 * 5) / 232, nackCount: 4, pliCount: 1, freezeCount: 2,
      freezesDurationMs: 750, pauseCount: 1, pausesDurationMs: 5500, rttMs: 30.5, estimateKbps: 1500 });
    expect(next.jitterBufferDelayMs).toBeCloseTo(20, 9);
  });
  test("the RTCP round trip once the sender's reports measure one; the nominated pair without a transport entry", () => {
    const entries = chromiumReport(5, {}).filter((e) => e.type !== "transport").map((e) => (e.type === "remote-outbound-rtp" ? { ...e, roundTripTimeMeasurements: 3, roundTripTime: 0.004 } : e));
    expect([summariseInbound(entries).rtcpRttMs, summariseInbound(entries).rttMs]).toEqual([4, 2]);
  });
});

describe("the receiver panel's rows", () => {
  test("formatBitrate and formatCountAndDuration", () => {
    expect([formatBitrate(812.4), formatBitrate(12_300), formatBitrate(null), formatBitrate(Number.NaN)]).toEqual(["812 kbit/s", "12.30 Mbit/s", "–", "–"]);
    expect(formatCountAndDuration(2, 1400)).toBe("2 (1.4 s)");
  });
  test("receiverFigures: every getStats figure in order; the REMB estimate says when the browser does not report it (yet)", () => {
    const first = summariseInbound(chromiumReport(1_000_000, {}));
    const s: InboundStats = { ...summariseInbound(chromiumReport(1_001_000, { bytesReceived: 81583 + 20_000, packetsReceived: 200 }), first), framesPerSecond: 30 };
    const text = Object.fromEntries(receiverFigures(s).map((r) => [r.name, r.text]));
    expect(text).toEqual({
      codec: "H264 42e01f", "frames decoded": "125", "frames dropped": "0", "receive fps": "30", "received bitrate": "160 kbit/s",
      "packets lost": "0", loss: "0.00 % (last s 0.00 %)", "NACKs / PLIs / FIRs sent": "0 / 0 / 0", freezes: "0 (0.0 s)", pauses: "0 (0.0 s)",
      jitter: "1.5 ms", "jitter buffer delay": "– ms", RTT: "2.0 ms (ICE)", "bandwidth estimate (REMB)": "not reported (yet)", "ICE / DTLS": "connected / connected",
    });
    expect(receiverFigures({ ...s, rtcpRttMs: 4, estimateKbps: 2500 }).filter((r) => r.id === "rtt" || r.id === "estimate").map((r) => r.text))
      .toEqual(["2.0 ms (ICE) · 4.0 ms (RTCP)", "2.50 Mbit/s"]);
    expect(receiverFigures(NO_INBOUND_STATS).find((r) => r.id === "estimate")?.text).toBe("–");
    expect(new Set(receiverFigures(s).map((r) => r.id)).size).toBe(receiverFigures(s).length);
  });
});

describe("the receiver's columns in the samples export", () => {
  const report = {
    frameMatched: true, found: true, frameId: 9, rtpTimestamp: 100, detectedX: 10, detectedY: 20, frameTruthX: 10.5, frameTruthY: 20,
    nowTruthX: 15, nowTruthY: 20, realtimeErrorPx: 5, frameErrorPx: 0.5, latencyMs: 30, captureTimeMs: 1000, arrivalMs: 2500,
  };
  const frame = (decodedAtMs: number) => ({ rtpTimestamp: 100, found: true, x: 10, y: 20, detectMs: 0.5, decodedAtMs, ...paintedAt(decodedAtMs + 1) });
  const stats = (timestampMs: number, bitrateKbps: number): InboundStats => ({ ...NO_INBOUND_STATS, timestampMs, bitrateKbps, rttMs: 2 });

  test("receiverColumns names each figure rx…, null without a summary", () => {
    expect(receiverColumns(stats(7, 160))).toMatchObject({ rxTimestampMs: 7, rxBitrateKbps: 160, rxRttMs: 2, rxLossPct: null, rxFreezeCount: 0 });
    expect(Object.values(receiverColumns(null)).every((v) => v === null)).toBe(true);
    const net = SAMPLE_COLUMNS.indexOf("netDown");
    expect(SAMPLE_COLUMNS.slice(18, net) as string[]).toEqual(Object.keys(receiverColumns(null)));
    expect(SAMPLE_COLUMNS.slice(net, net + 2)).toEqual(["netDown", "netUp"]);
  });
  test("ReceiverLog gives each sample the newest summary at or before its frame's decode (else its arrival), bounded", () => {
    const log = new ReceiverLog(3);
    for (const [t, kbps] of [[1000, 10], [2000, 20], [1500, 99], [3000, 30], [4000, 40]] as const) log.add(stats(t, kbps));
    log.add(NO_INBOUND_STATS); // no report time: ignored
    const samples = [sampleOf(report, frame(1999)), sampleOf(report, frame(2000)), sampleOf(report, frame(9000)), sampleOf(report, null), sampleOf(report, frame(500))];
    // 1000 was dropped (at most 3 kept); 1500 came out of order and was ignored
    expect(log.annotate(samples).map((s) => s.rxBitrateKbps)).toEqual([null, 20, 40, 20, null]);
    expect(log.annotate(samples)[1]).toMatchObject({ frameId: 9, decodedAtMs: 2000, rxTimestampMs: 2000, rxRttMs: 2 });
  });
  test("toCsv writes the receiver's columns after the frame's; a sample without them has empty cells there", () => {
    const log = new ReceiverLog();
    log.add(stats(1000, 160));
    const [annotated] = log.annotate([sampleOf(report, frame(1200))]);
    const [header, withRx, without] = toCsv([annotated!, sampleOf(report, null)]).trim().split("\n");
    const rx = header!.split(",").indexOf("rxTimestampMs");
    expect(header!.split(",").slice(rx - 1, rx + 2)).toEqual(["detectMs", "rxTimestampMs", "rxBitrateKbps"]);
    const cell = (row: string, column: string) => row.split(",")[header!.split(",").indexOf(column)];
    expect([cell(withRx!, "rxBitrateKbps"), cell(withRx!, "rxRttMs"), cell(withRx!, "rxLossPct"), cell(without!, "rxBitrateKbps"), cell(without!, "frameId")]).toEqual(["160", "2", "", "", "9"]);
  });
  test("TimeLog: the newest value at or before a time; older or equal times are ignored; bounded", () => {
    const log = new TimeLog<string>(2);
    expect(log.at(5)).toBeUndefined();
    log.add(10, "a");
    log.add(10, "again");
    log.add(20, "b");
    log.add(15, "late");
    expect([log.at(9), log.at(10), log.at(19), log.at(20), log.at(1e9)]).toEqual([undefined, "a", "a", "b", "b"]);
    log.add(30, "c"); // "a" goes
    expect([log.at(10), log.at(25), log.at(30)]).toEqual([undefined, "b", "c"]);
  });
  test("NetworkLog names the network setting in force at each sample's frame, null before the first; CSV has netDown and netUp", () => {
    const log = new NetworkLog();
    log.add(1000, { down: "", up: "" });
    log.add(2000, { down: "loss=5%,delay=50ms", up: "delay=10ms" });
    const samples = log.annotate([sampleOf(report, frame(500)), sampleOf(report, frame(1500)), sampleOf(report, frame(2000)), sampleOf(report, null)]);
    expect(samples.map((s) => [s.netDown, s.netUp])).toEqual([[null, null], ["", ""], ["loss=5%,delay=50ms", "delay=10ms"], ["loss=5%,delay=50ms", "delay=10ms"]]);
    const [header, , , withLoss] = toCsv(samples).trim().split("\n");
    const net = header!.split(",").indexOf("netDown");
    expect(header!.split(",").slice(net, net + 2)).toEqual(["netDown", "netUp"]);
    expect(withLoss!.includes(',"loss=5%,delay=50ms",delay=10ms,')).toBe(true); // quoted: the spec has a comma
  });
});
