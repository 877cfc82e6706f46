/**
 * Light receivers for the capacity benchmark, as a separate process: each session is started on the bus the way
 * signaling starts one (generatorStart, then mediaOffer with a werift peer's SDP offer, heartbeats every second)
 * and its RTP is counted by timestamp and marker bit without depacketizing into H.264 or decoding, so this
 * process costs far less than a browser and the server's cost shows.
 *
 * Run by {@link ./light-fleet.ts}: `NATS_URL=… bun scripts/bench/light-receiver.ts`; one JSON command per stdin
 * line (`{"cmd":"add","count":n,"fps":f}`, `{"cmd":"window"}`, `{"cmd":"report"}`, `{"cmd":"stop"}`), one JSON
 * reply per stdout line.
 */
import { join } from "node:path";
import { type Bus, connectNatsBus, createLogger, requestJson } from "@ballstream/runtime";
import { SESSION_TIMING, encodeJson, nowMs, parseMediaOfferAnswer, parseSettings, subjects } from "@ballstream/protocol";
import { FrameCounter, type FrameCount } from "./frame-counter.ts";

type Werift = typeof import("werift");

/** One light session. */
interface LightSession {
  readonly id: string;
  readonly counter: FrameCounter;
  close(): Promise<void>;
}

/** The reply to `report`: every session's counts since the last `window`. */
export interface FleetReport {
  readonly sessions: FrameCount[];
}

/** How long a new session may take to deliver its first frame before `add` answers anyway. */
const FIRST_FRAME_TIMEOUT_MS = 10_000;
const H264 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";

function sessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
}

async function startSession(w: Werift, bus: Bus, fps: number): Promise<LightSession> {
  const id = sessionId();
  const counter = new FrameCounter();
  const pc = new w.RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: true,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: {
      video: [
        new w.RTCRtpCodecParameters({
          mimeType: "video/H264",
          clockRate: 90_000,
          rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
          parameters: H264,
        }),
      ],
    },
  });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => counter.packet(rtp.header.timestamp, rtp.header.marker, rtp.header.sequenceNumber, nowMs()));
  });
  const subs = [bus.subscribe(subjects.truth(id), () => counter.truth())];
  const beat = setInterval(() => bus.publish(subjects.heartbeat(id), new Uint8Array(0)), SESSION_TIMING.heartbeatIntervalMs);
  const close = async () => {
    clearInterval(beat);
    for (const s of subs) s.unsubscribe();
    bus.publish(subjects.ended(id), encodeJson({ reason: "benchmark done" }));
    await pc.close();
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    const gathered = Date.now() + 3000;
    while (pc.iceGatheringState !== "complete" && Date.now() < gathered) await Bun.sleep(20);
    const settings = await requestJson(bus, subjects.generatorStart, { sessionId: id, settings: { fps } }, parseSettings, SESSION_TIMING.requestTimeoutMs);
    const answer = await requestJson(
      bus,
      subjects.mediaOffer,
      { sessionId: id, sdp: pc.localDescription!.sdp, settings },
      parseMediaOfferAnswer,
      SESSION_TIMING.requestTimeoutMs,
    );
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    // Counted from its first complete frame on: connecting (ICE, DTLS) is not part of steady-state delivery.
    const streaming = Date.now() + FIRST_FRAME_TIMEOUT_MS;
    while (counter.read().framesComplete === 0 && Date.now() < streaming) await Bun.sleep(50);
  } catch (err) {
    await close();
    throw err;
  }
  return { id, counter, close };
}

async function main(): Promise<void> {
  const natsUrl = process.env.NATS_URL;
  if (!natsUrl) throw new Error("NATS_URL is required");
  const w = (await import(Bun.resolveSync("werift", join(import.meta.dir, "../../services/media")))) as Werift;
  const bus = await connectNatsBus({ url: natsUrl, name: "bench-light-receivers", log: createLogger("light", { level: "warn" }) });
  const sessions: LightSession[] = [];
  const reply = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Bun.stdin.stream()) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const c = JSON.parse(line) as { cmd: string; count?: number; fps?: number };
      try {
        if (c.cmd === "add") {
          const added = await Promise.all(Array.from({ length: c.count ?? 1 }, () => startSession(w, bus, c.fps ?? 30)));
          sessions.push(...added);
          reply({ ok: true, sessions: sessions.length });
        } else if (c.cmd === "window") {
          for (const s of sessions) s.counter.reset();
          reply({ ok: true });
        } else if (c.cmd === "report") {
          reply({ ok: true, sessions: sessions.map((s) => s.counter.read()) } satisfies FleetReport & { ok: true });
        } else if (c.cmd === "stop") {
          await Promise.all(sessions.splice(0).map((s) => s.close()));
          await bus.drain();
          reply({ ok: true });
          process.exit(0);
        } else reply({ ok: false, error: `unknown command ${c.cmd}` });
      } catch (err) {
        reply({ ok: false, error: String(err) });
      }
    }
  }
}

if (import.meta.main) await main();
