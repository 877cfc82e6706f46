/**
 * A channel over the bus with werift peers as viewers (real generator, ffmpeg, DTLS/SRTP on loopback): one encoder,
 * every viewer its own SSRC and unbroken sequence numbers over the same payloads, a NACK answered to the viewer who
 * sent it only, keyframe requests of many viewers coalesced, the last viewer out unsubscribes, and the younger of
 * two sources of one channel gives way.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, ProtocolError, SESSION_TIMING, parseMediaOfferAnswer, parseSettings, rtpTimestampFromCaptureTime, subjects } from "@ballstream/protocol";
import { MemoryBus, createLogger, createRegistry, requestJson } from "@ballstream/runtime";
import { startGenerator } from "@ballstream/generator";
import { GenericNack, PictureLossIndication, RTCPeerConnection, RtcpPayloadSpecificFeedback, RtcpSrPacket, RtcpTransportLayerFeedback, type RtpPacket } from "werift";
import { ABS_CAPTURE_TIME_URI, PLAYOUT_DELAY_URI, h264Codec, videoHeaderExtensions } from "../src/codec.ts";
import { dropDefaultStun } from "../src/ice-stun.ts";
import { type MediaService, startMedia } from "../src/mod.ts";
import { startsKeyframe } from "./rtp-figures.ts";

const log = createLogger("channel-test", { level: process.env.LOG_LEVEL ?? "warn" });
const bus = new MemoryBus(log);
const registry = createRegistry();
const SOURCE = "channelTestSource00000";
const GAP_MS = 500;
const iceConfig = { iceInterfaceAddress: "127.0.0.1", iceAdvertiseAddresses: ["127.0.0.1"] };
let generator: { stop(): Promise<void> };
let media: MediaService;
const beats: Array<ReturnType<typeof setInterval>> = [];

function beat(id: string): void {
  bus.publish(subjects.heartbeat(id), new Uint8Array(0));
  beats.push(setInterval(() => bus.publish(subjects.heartbeat(id), new Uint8Array(0)), SESSION_TIMING.heartbeatIntervalMs));
}

beforeAll(async () => {
  generator = await startGenerator({ bus, log, registry });
  media = await startMedia({ bus, log, registry, config: { ...iceConfig, channelKeyframeGapMs: GAP_MS } });
  beat(SOURCE);
  await requestJson(bus, subjects.mediaOffer, { sessionId: SOURCE, channelSource: true }, parseMediaOfferAnswer, 5000);
  await requestJson(bus, subjects.generatorStart, { sessionId: SOURCE, settings: parseSettings({ ...DEFAULT_SETTINGS, fps: 30 }), channel: true }, parseSettings, 5000);
});

afterAll(async () => {
  for (const b of beats) clearInterval(b);
  for (const v of viewers) await v.pc.close();
  await media.stop();
  await generator.stop();
  await bus.drain();
});

/** A werift viewer of the channel: every packet it received, in order, and the sender reports. */
interface Viewer {
  readonly id: string;
  readonly pc: RTCPeerConnection;
  readonly packets: RtpPacket[];
  readonly reports: RtcpSrPacket[];
}
const viewers: Viewer[] = [];

async function join(n: number): Promise<Viewer> {
  const id = `channelTestViewer${String(n).padStart(5, "0")}`;
  const pc = new RTCPeerConnection({ codecs: { video: [h264Codec()] }, headerExtensions: { video: videoHeaderExtensions(), audio: [] }, iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: "127.0.0.1" }, iceAdditionalHostAddresses: ["127.0.0.1"] });
  const viewer = { id, pc, packets: [] as RtpPacket[], reports: [] as RtcpSrPacket[] };
  viewers.push(viewer);
  const transceiver = pc.addTransceiver("video", { direction: "recvonly" });
  transceiver.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => viewer.packets.push(rtp)));
  transceiver.receiver.onRtcp.subscribe((packet) => {
    if (packet instanceof RtcpSrPacket) viewer.reports.push(packet);
  });
  const offer = await pc.createOffer();
  dropDefaultStun(pc, []); // host candidates only: gathering then ends at once
  await pc.setLocalDescription(offer);
  if (pc.iceGatheringState !== "complete") await pc.iceGatheringStateChange.watch((s) => s === "complete", 5000).catch(() => undefined);
  beat(id);
  const { sdp } = await requestJson(bus, subjects.mediaOffer, { sessionId: id, sdp: pc.localDescription!.sdp, channel: SOURCE }, parseMediaOfferAnswer, 10_000);
  await pc.setRemoteDescription({ type: "answer", sdp: sdp! });
  return viewer;
}

const frames = (v: Viewer) => v.packets.filter((p) => p.header.marker).length;
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await Bun.sleep(20);
}
async function metric(name: string): Promise<number> {
  const m = new RegExp(`^ballstream_${name} (\\S+)$`, "m").exec(await registry.metrics());
  return m ? Number(m[1]) : 0;
}
async function sendRtcp(v: Viewer, feedback: RtcpPayloadSpecificFeedback | RtcpTransportLayerFeedback): Promise<void> {
  await v.pc.getTransceivers()[0]!.receiver.dtlsTransport.sendRtcp([feedback]);
}

describe("a channel with werift viewers", () => {
  test("two viewers, one encoder: each starts on a keyframe with its own SSRC and unbroken numbers over the same payloads", async () => {
    const [a, b] = await Promise.all([join(1), join(2)]);
    await until(() => frames(a) >= 30 && frames(b) >= 30);
    expect(frames(a)).toBeGreaterThanOrEqual(30);
    expect(frames(b)).toBeGreaterThanOrEqual(30);
    for (const v of [a, b]) {
      expect(startsKeyframe(v.packets[0]!.payload)).toBe(true);
      const seqs = v.packets.map((p) => p.header.sequenceNumber);
      expect(seqs.every((s, i) => i === 0 || s === ((seqs[i - 1]! + 1) & 0xffff))).toBe(true);
    }
    expect(a.packets[0]!.header.ssrc).not.toBe(b.packets[0]!.header.ssrc);
    // The same frame (RTP timestamp) carries the same payload bytes to both.
    const bByTs = new Map(b.packets.map((p) => [`${p.header.timestamp}/${p.payload[0]}/${p.payload[1]}/${p.payload.length}`, p.payload]));
    const common = a.packets.filter((p) => bByTs.has(`${p.header.timestamp}/${p.payload[0]}/${p.payload[1]}/${p.payload.length}`));
    expect(common.length).toBeGreaterThan(20);
    expect(common.every((p) => Buffer.compare(p.payload, bByTs.get(`${p.header.timestamp}/${p.payload[0]}/${p.payload[1]}/${p.payload.length}`)!) === 0)).toBe(true);
    // Every packet says when its frame was captured (abs-capture-time, NTP): the same instant its RTP timestamp names.
    const extId = a.pc.getTransceivers()[0]!.headerExtensions.find((e) => e.uri === ABS_CAPTURE_TIME_URI)!.id;
    const playoutId = a.pc.getTransceivers()[0]!.headerExtensions.find((e) => e.uri === PLAYOUT_DELAY_URI)!.id;
    for (const p of a.packets.slice(0, 50)) {
      expect(Buffer.from(p.header.extensions.find((e) => e.id === playoutId)!.payload).toString("hex")).toBe("000000"); // min = max = 0
      const ext = p.header.extensions.find((e) => e.id === extId)!.payload;
      const captureMs = (ext.readUInt32BE(0) - 2_208_988_800) * 1000 + (ext.readUInt32BE(4) / 2 ** 32) * 1000;
      expect(Math.abs(((rtpTimestampFromCaptureTime(captureMs) - p.header.timestamp + 2 ** 31) % 2 ** 32) - 2 ** 31)).toBeLessThanOrEqual(1);
    }
    expect(media.channelViewers().get(SOURCE)).toBe(2);
    expect(media.sessionIds().sort()).toEqual([SOURCE, a.id, b.id].sort()); // one access-units session: one ffmpeg
    expect(await metric("media_channel_feeds")).toBe(1);
  }, 30_000);

  test("a NACK is answered to the viewer who sent it, with its own SSRC and number and the channel's bytes", async () => {
    const [a, b] = viewers as [Viewer, Viewer];
    const lost = a.packets.at(-5)!;
    const copy = Buffer.from(lost.payload);
    const fromA = a.packets.length;
    const fromB = b.packets.length;
    await sendRtcp(a, new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: lost.header.ssrc, lost: [lost.header.sequenceNumber] }) }));
    const again = () => a.packets.slice(fromA).find((p) => p.header.sequenceNumber === lost.header.sequenceNumber);
    await until(() => again() !== undefined, 3000);
    expect(again()?.header.ssrc).toBe(lost.header.ssrc);
    expect(Buffer.compare(again()!.payload, copy)).toBe(0);
    // b got no retransmission: its numbers stay unbroken, none repeats
    const bSeqs = b.packets.slice(fromB).map((p) => p.header.sequenceNumber);
    expect(new Set(bSeqs).size).toBe(bSeqs.length);
  }, 30_000);

  test("each viewer gets sender reports for its own SSRC: its packet count, the RTP time of a frame it got, NTP seconds of now", async () => {
    for (const v of viewers.slice(0, 2)) {
      await until(() => v.reports.length > 0, 3000);
      const sr = v.reports.at(-1)!;
      expect(sr.ssrc).toBe(v.packets[0]!.header.ssrc);
      expect(sr.senderInfo.packetCount).toBeGreaterThan(0);
      expect(sr.senderInfo.packetCount).toBeLessThanOrEqual(v.packets.length);
      expect(v.packets.some((p) => p.header.timestamp === sr.senderInfo.rtpTimestamp)).toBe(true);
      expect(Math.abs(Number(sr.senderInfo.ntpTimestamp >> 32n) - (Date.now() / 1000 + 2_208_988_800))).toBeLessThan(5);
    }
  }, 30_000);

  test("PLIs from every viewer at once cost at most one keyframe per gap; a new viewer waits at most about the gap", async () => {
    const [a, b] = viewers as [Viewer, Viewer];
    await Bun.sleep(GAP_MS + 50);
    const coalescedBefore = Number(/outcome="coalesced"} (\d+)/.exec(await registry.metrics())?.[1] ?? 0);
    const from = a.packets.length;
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      for (const v of [a, b]) await sendRtcp(v, new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: v.packets[0]!.header.ssrc }) }));
      await Bun.sleep(50);
    }
    await Bun.sleep(Math.max(0, 1000 - (Date.now() - t0)));
    const keyframes = a.packets.slice(from).filter((p) => startsKeyframe(p.payload)).length;
    // 20 PLIs in 1 s: the first at once, then at most one per 500 ms (and the 2 s periodic one, perhaps)
    expect(keyframes).toBeGreaterThanOrEqual(1);
    expect(keyframes).toBeLessThanOrEqual(4);
    expect(Number(/outcome="coalesced"} (\d+)/.exec(await registry.metrics())?.[1] ?? 0)).toBeGreaterThan(coalescedBefore + 10);
    const joined = Date.now();
    const c = await join(3);
    await until(() => c.packets.length > 0, 5000);
    expect(startsKeyframe(c.packets[0]!.payload)).toBe(true);
    const waitedMs = Date.now() - joined;
    console.log(`a new viewer's first packet (a keyframe) ${waitedMs} ms after its offer (ICE + DTLS + the wait for a keyframe)`);
    expect(waitedMs).toBeLessThan(3000);
  }, 30_000);

  test("the last viewer out unsubscribes the replica from the channel", async () => {
    for (const v of viewers) bus.publish(subjects.ended(v.id), new TextEncoder().encode('{"reason":"test"}'));
    await until(() => media.channelViewers().size === 0, 5000);
    expect(media.channelViewers().size).toBe(0);
    expect(await metric("media_channel_feeds")).toBe(0);
    expect(media.sessionIds()).toEqual([SOURCE]); // the source lives while the channel beats
  }, 30_000);

  test("a second source of the channel: the same replica keeps its encoder; another replica's younger one gives way", async () => {
    await requestJson(bus, subjects.mediaOffer, { sessionId: SOURCE, channelSource: true }, parseMediaOfferAnswer, 5000);
    expect(media.sessionIds()).toEqual([SOURCE]);
    const other = await startMedia({ bus, log: log.child({ replica: 2 }), registry: createRegistry(), config: iceConfig, handOverMs: 0 });
    try {
      // ask until the queue group sends it to the other replica
      for (let i = 0; i < 20 && !other.sessionIds().includes(SOURCE); i++) await requestJson(bus, subjects.mediaOffer, { sessionId: SOURCE, channelSource: true }, parseMediaOfferAnswer, 5000);
      await until(() => !other.sessionIds().includes(SOURCE), SESSION_TIMING.claimIntervalMs * 3);
      expect(other.sessionIds()).toEqual([]);
      expect(media.sessionIds()).toEqual([SOURCE]);
    } finally {
      await other.stop();
    }
  }, 30_000);

  test("impossible roles are refused before any work", async () => {
    const refused = await requestJson(bus, subjects.mediaOffer, { sessionId: "channelTestViewer99999", channel: SOURCE }, parseMediaOfferAnswer, 5000).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ProtocolError);
    expect((refused as ProtocolError).code).toBe("bad_request");
  });
});
