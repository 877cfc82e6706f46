/**
 * A real session whose fps changes live, 30 → 120 → 1: real generator worker, real media with ffmpeg/libx264, on
 * the in-process bus, a werift viewer counting the RTP media sends. The keyframe interval must stay
 * KEYFRAME_INTERVAL_S (± one frame) and the bytes per second within 1.5× of the 30 fps phase.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, SESSION_TIMING, parseMediaOfferAnswer, parseSettings, subjects } from "@ballstream/protocol";
import { MemoryBus, createLogger, createRegistry, requestJson } from "@ballstream/runtime";
import { startGenerator } from "@ballstream/generator";
import { RTCPeerConnection, type RtpPacket } from "werift";
import { h264Codec } from "../src/codec.ts";
import { type MediaService, startMedia } from "../src/mod.ts";
import { type PhaseFigures, phaseFigures } from "./rtp-figures.ts";

const KEYFRAME_INTERVAL_S = 2;
const log = createLogger("fps-change-test", { level: process.env.LOG_LEVEL ?? "warn" });
const bus = new MemoryBus(log);
const registry = createRegistry();
const id = "fpsChangeTestSession01";
let generator: { stop(): Promise<void> };
let media: MediaService;
let heartbeat: ReturnType<typeof setInterval>;
const viewer = new RTCPeerConnection({
  codecs: { video: [h264Codec()] },
  iceUseIpv6: false,
  iceInterfaceAddresses: { udp4: "127.0.0.1" },
  iceAdditionalHostAddresses: ["127.0.0.1"],
});

beforeAll(async () => {
  generator = await startGenerator({ bus, log, registry });
  media = await startMedia({ bus, log, registry, config: { keyframeIntervalS: KEYFRAME_INTERVAL_S, iceInterfaceAddress: "127.0.0.1", iceAdvertiseAddresses: ["127.0.0.1"] } });
});

afterAll(async () => {
  clearInterval(heartbeat);
  await viewer.close();
  await media.stop();
  await generator.stop();
  await bus.drain();
});

test("30 → 120 → 1 fps: one keyframe per KEYFRAME_INTERVAL_S (± one frame), bytes per second within 1.5× of 30 fps", async () => {
  const settings = { ...DEFAULT_SETTINGS, fps: 30 };
  heartbeat = setInterval(() => bus.publish(subjects.heartbeat(id), new Uint8Array(0)), SESSION_TIMING.heartbeatIntervalMs);
  const packets: RtpPacket[] = [];
  const transceiver = viewer.addTransceiver("video", { direction: "recvonly" });
  transceiver.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => packets.push(rtp)));
  await viewer.setLocalDescription(await viewer.createOffer());
  await viewer.iceGatheringStateChange.watch((s) => s === "complete", 5000).catch(() => undefined);
  await requestJson(bus, subjects.generatorStart, { sessionId: id, settings }, parseSettings, 5000);
  const { sdp } = await requestJson(bus, subjects.mediaOffer, { sessionId: id, sdp: viewer.localDescription!.sdp }, parseMediaOfferAnswer, 10_000);
  await viewer.setRemoteDescription({ type: "answer", sdp });
  for (let i = 0; i < 200 && packets.length === 0; i++) await Bun.sleep(50);

  const phases: Array<{ fps: number; seconds: number }> = [
    { fps: 30, seconds: 6.5 },
    { fps: 120, seconds: 6.5 },
    { fps: 1, seconds: 9 },
  ];
  const figures: PhaseFigures[] = [];
  for (const [k, phase] of phases.entries()) {
    if (k > 0) await requestJson(bus, subjects.sessionControl(id), { type: "control", fps: phase.fps }, parseSettings, 5000);
    const from = packets.length;
    await Bun.sleep(phase.seconds * 1000);
    figures.push(phaseFigures(phase.fps, packets.slice(from)));
  }
  console.log(JSON.stringify(figures));

  const base = figures[0]!.bytesPerSecond;
  for (const f of figures) {
    expect(f.keyframeGapsFrames.length).toBeGreaterThanOrEqual(2);
    for (const gap of f.keyframeGapsFrames) expect(Math.abs(gap - f.fps * KEYFRAME_INTERVAL_S)).toBeLessThanOrEqual(1);
    expect(f.bytesPerSecond).toBeLessThanOrEqual(1.5 * base);
  }
}, 60_000);
