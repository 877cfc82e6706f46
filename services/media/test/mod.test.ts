/**
 * The service over the bus with a werift peer as the viewer (no browser): offer → answer, RTP named by the
 * frames' capture times, PLI → keyframe, a NACKed packet retransmitted byte for byte, REMB → a lower
 * target, bad offers → clear error replies, `ended` → everything released.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, ProtocolError, SESSION_TIMING, type VideoUnit, decodeVideoUnit, encodeJson, parseMediaAlive, parseMediaOfferAnswer, parseSettings, rtpTimestampFromCaptureTime, subjects } from "@ballstream/protocol";
import { MemoryBus, createLogger, createRegistry, decodeTruth, requestJson } from "@ballstream/runtime";
import { startGenerator } from "@ballstream/generator";
import { GenericNack, PictureLossIndication, RTCPeerConnection, ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback, RtcpTransportLayerFeedback, type RtpPacket } from "werift";
import { CHROMIUM_OFFER, mSectionBomb } from "@ballstream/testing";
import { h264Codec } from "../src/codec.ts";
import { type MediaService, startMedia } from "../src/mod.ts";
import { startsKeyframe } from "./rtp-figures.ts";

const log = createLogger("media-test", { level: process.env.LOG_LEVEL ?? "warn" });
const bus = new MemoryBus(log);
const registry = createRegistry();
const settings = parseSettings({ ...DEFAULT_SETTINGS, fps: 30, scene: "noise" }); // noise: a sender that uses its budget (REMB test)
let generator: { stop(): Promise<void> };
let media: MediaService;

beforeAll(async () => {
  generator = await startGenerator({ bus, log, registry });
  // A GOP of a minute: every keyframe after the first in these tests is one a viewer asked for.
  media = await startMedia({ bus, log, registry, config: { iceInterfaceAddress: "127.0.0.1", iceAdvertiseAddresses: ["127.0.0.1"], keyframeIntervalS: 60 } });
});

afterAll(async () => {
  await media.stop();
  await generator.stop();
  await bus.drain();
});

const sessionId = (n: number) => `mediaTestSession${String(n).padStart(6, "0")}`;

function offerMedia(id: string, sdp: string) {
  return requestJson(bus, subjects.mediaOffer, { sessionId: id, sdp }, parseMediaOfferAnswer, 10_000);
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (err) {
    return err instanceof ProtocolError ? err.code : String(err);
  }
}

describe("offers that cannot be served get a clear error reply", () => {
  test("malformed SDP or the m-section bomb → bad_request; no H.264 → unsupported; the service keeps serving", async () => {
    expect(await errorCode(offerMedia(sessionId(1), "not sdp at all"))).toBe("bad_request");
    const vp8Only = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n";
    expect(await errorCode(offerMedia(sessionId(2), vp8Only))).toBe("unsupported");
    const cpu = process.cpuUsage();
    expect(await errorCode(offerMedia(sessionId(4), mSectionBomb()))).toBe("bad_request"); // cost werift 2.2 s of CPU before the check
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1e6).toBeLessThan(0.2);
    expect(await errorCode(requestJson(bus, subjects.mediaOffer, { sessionId: "short" }, parseMediaOfferAnswer, 5000))).toBe("bad_request");
    expect(media.sessionIds()).toEqual([]);
  });
});

describe("MAX_SESSIONS", () => {
  test("an offer beyond maxSessions is refused (unavailable); a session's own new offer still replaces it", async () => {
    const own = new MemoryBus(log);
    const limited = await startMedia({ bus: own, log, registry: createRegistry(), config: { maxSessions: 1, iceInterfaceAddress: "127.0.0.1", iceGatherTimeoutMs: 500 } });
    const offer = (id: string) => requestJson(own, subjects.mediaOffer, { sessionId: id, sdp: CHROMIUM_OFFER }, parseMediaOfferAnswer, 10_000);
    try {
      await offer(sessionId(10));
      expect(await errorCode(offer(sessionId(11)))).toBe("unavailable");
      await offer(sessionId(10));
      expect(limited.sessionIds()).toEqual([sessionId(10)]);
    } finally {
      await limited.stop();
    }
  }, 30_000);
});

describe("liveness and hand-over", () => {
  test("each answer names the replica; it says it is alive; stopping, it says it is leaving and waits for its sessions to go", async () => {
    const own = new MemoryBus(log);
    const replica = await startMedia({ bus: own, log, registry: createRegistry(), handOverMs: 3000, config: { iceInterfaceAddress: "127.0.0.1", iceGatherTimeoutMs: 500 } });
    const heard: boolean[] = [];
    own.subscribe(subjects.mediaAlive(replica.instance), (m) => void heard.push(parseMediaAlive(JSON.parse(new TextDecoder().decode(m.data))).leaving));
    const answer = await requestJson(own, subjects.mediaOffer, { sessionId: sessionId(20), sdp: CHROMIUM_OFFER }, parseMediaOfferAnswer, 10_000);
    expect(answer.instance).toBe(replica.instance);
    await Bun.sleep(3 * SESSION_TIMING.mediaAliveIntervalMs);
    expect(heard.length).toBeGreaterThanOrEqual(2);
    expect(heard.every((leaving) => !leaving)).toBe(true);
    const t0 = Date.now();
    const stopped = replica.stop();
    await Bun.sleep(300);
    expect(heard.at(-1)).toBe(true); // told signaling at once
    expect(replica.sessionIds()).toEqual([sessionId(20)]); // and waits for the page to move
    own.publish(subjects.ended(sessionId(20)), encodeJson({ reason: "moved" }));
    await stopped;
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(replica.sessionIds()).toEqual([]);
  }, 30_000);
});

describe("a werift viewer", () => {
  const id = sessionId(3);
  const viewer = new RTCPeerConnection({
    codecs: { video: [h264Codec()] },
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: "127.0.0.1" },
    iceAdditionalHostAddresses: ["127.0.0.1"],
  });
  const packets: RtpPacket[] = [];
  const truthRtp = new Set<number>();
  let heartbeat: ReturnType<typeof setInterval>;
  const restarts = () => registry.metrics().then((t) => Number(/ballstream_media_encoder_restarts_total (\d+)/.exec(t)![1]));

  afterAll(async () => {
    clearInterval(heartbeat);
    await viewer.close();
  });

  test("receives H.264 RTP whose timestamps are the frames' capture times, numbered without a gap, a frame's last packet marked", async () => {
    bus.subscribe(subjects.truth(id), (msg) => truthRtp.add(rtpTimestampFromCaptureTime(decodeTruth(msg.data).captureTimeMs)));
    heartbeat = setInterval(() => bus.publish(subjects.heartbeat(id), new Uint8Array(0)), SESSION_TIMING.heartbeatIntervalMs);
    await requestJson(bus, subjects.generatorStart, { sessionId: id, settings }, parseSettings, 5000);
    const transceiver = viewer.addTransceiver("video", { direction: "recvonly" });
    transceiver.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => packets.push(rtp)));
    await viewer.setLocalDescription(await viewer.createOffer());
    if (viewer.iceGatheringState !== "complete") await viewer.iceGatheringStateChange.watch((s) => s === "complete", 5000).catch(() => undefined);
    const { sdp } = await offerMedia(id, viewer.localDescription!.sdp);
    expect(sdp).toContain("H264/90000");
    expect(sdp).toContain("127.0.0.1");
    await viewer.setRemoteDescription({ type: "answer", sdp });
    for (let i = 0; i < 200 && packets.filter((p) => p.header.marker).length < 20; i++) await Bun.sleep(50);
    expect(packets.filter((p) => p.header.marker).length).toBeGreaterThanOrEqual(20);
    expect(startsKeyframe(packets[0]!.payload)).toBe(true);
    expect(packets.every((p) => truthRtp.has(p.header.timestamp))).toBe(true);
    expect(packets.slice(1).every((p, i) => p.header.sequenceNumber === ((packets[i]!.header.sequenceNumber + 1) & 0xffff))).toBe(true);
    expect(packets.slice(0, -1).every((p, i) => p.header.marker === (packets[i + 1]!.header.timestamp !== p.header.timestamp))).toBe(true);
    expect(media.sessionIds()).toEqual([id]);
  }, 30_000);

  test("a PLI brings a keyframe", async () => {
    await Bun.sleep(300); // past the keyframe-request coalescing window (200 ms)
    const from = packets.length;
    const ssrc = packets[0]!.header.ssrc;
    // As Chromium sends it: from an SSRC the media side does not know (werift's own receiver would use its sender's
    // SSRC, which werift on the media side routes to its receiver rather than its sender).
    const pli = new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: ssrc }) });
    await viewer.getTransceivers()[0]!.receiver.dtlsTransport.sendRtcp([pli]);
    for (let i = 0; i < 100 && !packets.slice(from).some((p) => startsKeyframe(p.payload)); i++) await Bun.sleep(20);
    expect(packets.slice(from).some((p) => startsKeyframe(p.payload))).toBe(true);
    const text = await registry.metrics();
    expect(text).toMatch(/ballstream_media_plis_total [1-9]/);
    expect(text).toMatch(/ballstream_media_encoder_restarts_total 0/); // libx264 in the process: an IDR in place
  }, 30_000);

  test("an RFC 5104 FIR (media SSRC 0, the stream in its FCI) brings a keyframe", async () => {
    await Bun.sleep(300); // past the keyframe gap
    const from = packets.length;
    const fci = Buffer.alloc(16);
    fci.writeUInt32BE(1, 0); // sender SSRC; media SSRC 0
    fci.writeUInt32BE(packets[0]!.header.ssrc, 8);
    fci[12] = 1; // FIR sequence number
    const fir = { count: 4, length: 4, serialize: () => fci }; // werift exports no FullIntraRequest to build one with
    await viewer.getTransceivers()[0]!.receiver.dtlsTransport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback: fir as never })]);
    for (let i = 0; i < 100 && !packets.slice(from).some((p) => startsKeyframe(p.payload)); i++) await Bun.sleep(20);
    expect(packets.slice(from).some((p) => startsKeyframe(p.payload))).toBe(true); // not the minute-long GOP's
  }, 30_000);

  test("a packet the viewer lost and NACKs comes again, byte for byte, from the stream's history of our packets", async () => {
    // The viewer "loses" the first packet of a keyframe (an FU-A start or the STAP-A): it keeps no copy and NACKs it.
    const lost = packets.findLast((p) => startsKeyframe(p.payload))!;
    const copy = Buffer.from(lost.payload);
    const ssrc = lost.header.ssrc;
    const from = packets.length;
    const nack = new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: ssrc, lost: [lost.header.sequenceNumber] }) });
    await viewer.getTransceivers()[0]!.receiver.dtlsTransport.sendRtcp([nack]);
    const again = () => packets.slice(from).find((p) => p.header.sequenceNumber === lost.header.sequenceNumber);
    for (let i = 0; i < 100 && again() === undefined; i++) await Bun.sleep(20);
    expect(again()?.header.timestamp).toBe(lost.header.timestamp);
    expect(Buffer.compare(again()!.payload, copy)).toBe(0);
    expect(await registry.metrics()).toMatch(/ballstream_media_nacks_total [1-9]/);
  }, 30_000);

  test("a REMB below what a sender using its budget sends lowers the target in place: smaller frames at once, no keyframe", async () => {
    await Bun.sleep(300); // past the keyframe gap
    const ssrc = packets[0]!.header.ssrc;
    /** Payload bytes per frame (by RTP timestamp) of the packets from `from` on, the last frame left out (incomplete). */
    const frameBytes = (from: number) => {
      const byTimestamp = new Map<number, number>();
      for (const p of packets.slice(from)) byTimestamp.set(p.header.timestamp, (byTimestamp.get(p.header.timestamp) ?? 0) + p.payload.length);
      return [...byTimestamp.values()].slice(0, -1);
    };
    const before = packets.length;
    await Bun.sleep(400);
    const budget = frameBytes(before);
    const from = packets.length;
    const remb = new ReceiverEstimatedMaxBitrate({ senderSsrc: 1, mediaSsrc: 0, ssrcNum: 1, ssrcFeedbacks: [ssrc], brExp: 0, brMantissa: 50_000 });
    await viewer.getTransceivers()[0]!.receiver.dtlsTransport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback: remb })]);
    await Bun.sleep(600);
    const after = frameBytes(from).slice(3); // the frames already encoded when it arrived left out
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(after.length).toBeGreaterThanOrEqual(5);
    expect(mean(after)).toBeLessThan(mean(budget) / 3); // 2000 kbit/s → the 150 kbit/s floor
    expect(packets.slice(from).some((p) => startsKeyframe(p.payload))).toBe(false);
    expect(await restarts()).toBe(0);
  }, 30_000);

  test("`ended` releases the session: peer connection, subscription (its encoder's end: encoder.test.ts, x264-threads.test.ts)", async () => {
    bus.publish(subjects.ended(id), encodeJson({ reason: "test" }));
    for (let i = 0; i < 50 && media.sessionIds().length > 0; i++) await Bun.sleep(50);
    expect(media.sessionIds()).toEqual([]);
    const count = packets.length;
    await Bun.sleep(300);
    expect(packets.length).toBe(count);
    expect(media.encoder).toStartWith("x264 in the process"); // the default here: no encoder process to look for
  }, 30_000);
});

describe("access units for the WebTransport path", () => {
  test("without an SDP offer: no peer connection, no units until videoWanted, then units from a keyframe that stop when it is no longer repeated", async () => {
    const id = sessionId(30);
    const units: VideoUnit[] = [];
    const sub = bus.subscribe(subjects.video(id), (msg) => units.push(decodeVideoUnit(msg.data)));
    const beat = setInterval(() => bus.publish(subjects.heartbeat(id), new Uint8Array(0)), SESSION_TIMING.heartbeatIntervalMs);
    try {
      expect(await requestJson(bus, subjects.mediaOffer, { sessionId: id }, parseMediaOfferAnswer, 10_000)).toEqual({ instance: media.instance }); // no SDP: no answer, only which replica serves it
      await requestJson(bus, subjects.generatorStart, { sessionId: id, settings }, parseSettings, 10_000);
      await Bun.sleep(500);
      expect(units).toEqual([]);
      const truths: number[] = [];
      const truthSub = bus.subscribe(subjects.truth(id), (msg) => truths.push(decodeTruth(msg.data).captureTimeMs));
      bus.publish(subjects.videoWanted(id), encodeJson({ keyframe: false }));
      for (let i = 0; i < 100 && units.length < 10; i++) await Bun.sleep(20);
      truthSub.unsubscribe();
      expect(units.length).toBeGreaterThanOrEqual(10);
      expect(units[0]!.keyframe).toBe(true);
      expect([...units[0]!.data.subarray(0, 5)]).toEqual([0, 0, 0, 1, 0x67]); // SPS first, Annex B
      expect(units.every((u, i) => i === 0 || u.frameId > units[i - 1]!.frameId)).toBe(true);
      expect(truths).toContain(units[1]!.captureTimeMs); // named by the generator's capture time
      await Bun.sleep(3500); // no further videoWanted: publishing stops
      const count = units.length;
      await Bun.sleep(300);
      expect(units.length).toBe(count);
    } finally {
      clearInterval(beat);
      sub.unsubscribe();
      bus.publish(subjects.ended(id), encodeJson({ reason: "test" }));
    }
  }, 30_000);
});
