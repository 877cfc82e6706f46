/**
 * Light receivers for the capacity and fan-out benchmarks, as a separate process. A private session is started on
 * the bus the way signaling starts one (generatorStart, then mediaOffer with a werift peer's SDP offer, heartbeats
 * every second); a channel viewer joins a running channel the way signaling joins one (mediaOffer with its own
 * session id and the channel's source id, heartbeats on both). RTP is counted by timestamp and marker bit from its
 * header in the clear, before werift's SRTP and RTP path, without depacketizing into H.264 or decoding, so this
 * process costs far less than a browser and the server's cost shows.
 *
 * Run by {@link ./light-fleet.ts}: `NATS_URL=… bun scripts/bench/light-receiver.ts`; one JSON command per stdin
 * line (`{"cmd":"add","count":n,"fps":f}` for private sessions, `{"cmd":"add","count":n,"channel":"<source id>"}`
 * (either with `"concurrency":k`, joins in flight at once)
 * for viewers of a channel, `{"cmd":"source","channel":"<source id>","fps":f}` to start a channel's source without
 * a page, `{"cmd":"window"}`, `{"cmd":"report"}`, `{"cmd":"stop"}`), one JSON reply per stdout line.
 */
import { join } from "node:path";
import { type Bus, type BusSubscription, connectNatsBus, createLogger, requestJson } from "@ballstream/runtime";
import { SESSION_TIMING, encodeJson, nowMs, parseMediaOfferAnswer, parseSettings, subjects } from "@ballstream/protocol";
import { dropDefaultStun } from "@ballstream/media";
import { mapBounded } from "./bounded.ts";
import { FrameCounter, type FrameCount, rtpFields } from "./frame-counter.ts";

type Werift = typeof import("werift");
type Peer = InstanceType<Werift["RTCPeerConnection"]>;

/** One light session: a private one, or a viewer of a channel. */
interface LightSession {
  readonly id: string;
  readonly counter: FrameCounter;
  /** Join started → answer received, → connected (ICE and DTLS up) and → first complete frame (ms; null: not in time). */
  readonly answeredMs: number;
  readonly connectedMs: number | null;
  readonly firstFrameMs: number | null;
  close(): Promise<void>;
}

/** The reply to `report`: every session's counts since the last `window`. */
export interface FleetReport {
  readonly sessions: FrameCount[];
}

/** The reply to `add`: the sessions now open, and how the new ones joined (failed joins are closed again). */
export interface AddReply {
  readonly sessions: number;
  /** Per new session: join started (before its offer) → answer received, ms. */
  readonly answeredMs: number[];
  /** Per new session: join started → its peer connection connected (ICE and DTLS up), ms (null: not in time). */
  readonly connectedMs: Array<number | null>;
  /** Per new session: join started → its first complete frame, ms (null: none within the timeout). */
  readonly firstFrameMs: Array<number | null>;
  /** Why joins failed (one line each). */
  readonly failures: string[];
}

/** How long a new session may take to deliver its first frame before `add` answers anyway. */
const FIRST_FRAME_TIMEOUT_MS = 10_000;
const H264 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";

function sessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
}

/** The channels this process watches: one truth subscription each, counted for every viewer of it here. */
class ChannelTruths {
  readonly #channels = new Map<string, { sub: BusSubscription; counters: Set<FrameCounter> }>();
  constructor(private readonly bus: Bus) {}

  add(source: string, counter: FrameCounter): void {
    let c = this.#channels.get(source);
    if (c === undefined) {
      const counters = new Set<FrameCounter>();
      c = { counters, sub: this.bus.subscribe(subjects.truth(source), () => counters.forEach((k) => k.truth())) };
      this.#channels.set(source, c);
    }
    c.counters.add(counter);
  }

  remove(source: string, counter: FrameCounter): void {
    const c = this.#channels.get(source);
    if (c === undefined) return;
    c.counters.delete(counter);
    if (c.counters.size > 0) return;
    c.sub.unsubscribe();
    this.#channels.delete(source);
  }
}

function newPeer(w: Werift): Peer {
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
  return pc;
}

/** The offer with every host candidate: werift's built-in Google STUN server dropped first (else 3–5 s per join). */
async function gatheredOffer(pc: Peer): Promise<string> {
  const offer = await pc.createOffer();
  dropDefaultStun(pc, []);
  await pc.setLocalDescription(offer);
  if (pc.iceGatheringState !== "complete") {
    // Only when it has not completed already: a change that happened before the watch would never come.
    await Promise.race([pc.iceGatheringStateChange.watch((s) => s === "complete"), Bun.sleep(3000)]);
  }
  return pc.localDescription!.sdp;
}

/**
 * Hands every packet off `pc`'s ICE connection to `rtp` first; werift gets only what `rtp` declines (RTCP, STUN,
 * DTLS). werift's receive path (SRTP decryption, RTP parsing and routing, an event per packet) cost ~100 µs a packet:
 * a third of a core at 100 viewers, on the cores the server under test runs on. So werift sends no NACKs or
 * receiver-report blocks for this peer: a lost packet stays lost (counted in `sequenceGaps`).
 */
function countRtpBeforeWerift(pc: Peer, rtp: (packet: Uint8Array) => boolean): void {
  const data = pc.iceTransports[0]!.connection.onData;
  const toWerift = data.execute;
  data.execute = (packet, ...rest) => {
    if (!rtp(packet)) toWerift(packet, ...rest);
  };
}

/** A private session (`channel` undefined, at `fps`) or a viewer of the channel whose source id is `channel`. */
async function startSession(w: Werift, bus: Bus, truths: ChannelTruths, fps: number, channel: string | undefined): Promise<LightSession> {
  const id = sessionId();
  const counter = new FrameCounter();
  const joined = nowMs();
  let firstFrameAt: number | null = null;
  let connectedAt: number | null = null;
  const pc = newPeer(w);
  pc.connectionStateChange.subscribe((state) => {
    if (state === "connected" && connectedAt === null) connectedAt = nowMs();
  });
  const subs = channel === undefined ? [bus.subscribe(subjects.truth(id), () => counter.truth())] : [];
  if (channel !== undefined) truths.add(channel, counter);
  const beat = () => {
    bus.publish(subjects.heartbeat(id), new Uint8Array(0));
    if (channel !== undefined) bus.publish(subjects.heartbeat(channel), new Uint8Array(0));
  };
  const beating = setInterval(beat, SESSION_TIMING.heartbeatIntervalMs);
  const close = async () => {
    clearInterval(beating);
    for (const s of subs) s.unsubscribe();
    if (channel !== undefined) truths.remove(channel, counter);
    bus.publish(subjects.ended(id), encodeJson({ reason: "benchmark done" }));
    await pc.close();
  };
  try {
    const sdp = await gatheredOffer(pc);
    countRtpBeforeWerift(pc, (packet) => {
      const rtp = rtpFields(packet);
      if (rtp === null) return false;
      const at = nowMs();
      if (firstFrameAt === null && rtp.marker) firstFrameAt = at;
      counter.packet(rtp.timestamp, rtp.marker, rtp.sequenceNumber, at);
      return true;
    });
    beat();
    let request: object;
    if (channel === undefined) {
      const settings = await requestJson(bus, subjects.generatorStart, { sessionId: id, settings: { fps } }, parseSettings, SESSION_TIMING.requestTimeoutMs);
      request = { sessionId: id, sdp, settings };
    } else {
      request = { sessionId: id, sdp, channel };
    }
    const answer = await requestJson(bus, subjects.mediaOffer, request, parseMediaOfferAnswer, SESSION_TIMING.requestTimeoutMs);
    if (answer.sdp === undefined) throw new Error("media answered without an SDP");
    const answeredMs = nowMs() - joined;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    // Counted from its first complete frame on: connecting (ICE, DTLS, a channel's next keyframe) is not steady-state delivery.
    const streaming = Date.now() + FIRST_FRAME_TIMEOUT_MS;
    while (firstFrameAt === null && Date.now() < streaming) await Bun.sleep(10);
    const since = (at: number | null) => (at === null ? null : at - joined);
    return { id, counter, answeredMs, connectedMs: since(connectedAt), firstFrameMs: since(firstFrameAt), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Starts a channel's source the way signaling does for its first viewer (encoder, then generator), for runs without a page. */
async function startSource(bus: Bus, source: string, fps: number): Promise<() => void> {
  const beat = () => bus.publish(subjects.heartbeat(source), new Uint8Array(0));
  beat();
  const beating = setInterval(beat, SESSION_TIMING.heartbeatIntervalMs);
  try {
    await requestJson(bus, subjects.mediaOffer, { sessionId: source, channelSource: true }, parseMediaOfferAnswer, SESSION_TIMING.requestTimeoutMs);
    await requestJson(bus, subjects.generatorStart, { sessionId: source, settings: { fps }, channel: true }, parseSettings, SESSION_TIMING.requestTimeoutMs);
  } catch (err) {
    clearInterval(beating);
    throw err;
  }
  return () => clearInterval(beating);
}

async function main(): Promise<void> {
  const natsUrl = process.env.NATS_URL;
  if (!natsUrl) throw new Error("NATS_URL is required");
  const w = (await import(Bun.resolveSync("werift", join(import.meta.dir, "../../services/media")))) as Werift;
  const bus = await connectNatsBus({ url: natsUrl, name: "bench-light-receivers", log: createLogger("light", { level: "warn" }) });
  const truths = new ChannelTruths(bus);
  const sessions: LightSession[] = [];
  const sources: Array<() => void> = [];
  const reply = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Bun.stdin.stream()) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const c = JSON.parse(line) as { cmd: string; count?: number; fps?: number; channel?: string; concurrency?: number };
      try {
        if (c.cmd === "add") {
          const outcomes = await mapBounded(Array.from({ length: c.count ?? 1 }), c.concurrency ?? 20, () => startSession(w, bus, truths, c.fps ?? 30, c.channel));
          const added = outcomes.flatMap((o) => (o.ok ? [o.value] : []));
          sessions.push(...added);
          const failures = outcomes.flatMap((o) => (o.ok ? [] : [String(o.error).split("\n")[0]!]));
          reply({ ok: true, sessions: sessions.length, answeredMs: added.map((s) => s.answeredMs), connectedMs: added.map((s) => s.connectedMs), firstFrameMs: added.map((s) => s.firstFrameMs), failures } satisfies AddReply & { ok: true });
        } else if (c.cmd === "source") {
          if (c.channel === undefined) throw new Error("source needs a channel");
          sources.push(await startSource(bus, c.channel, c.fps ?? 30));
          reply({ ok: true });
        } else if (c.cmd === "window") {
          for (const s of sessions) s.counter.reset();
          reply({ ok: true });
        } else if (c.cmd === "report") {
          reply({ ok: true, sessions: sessions.map((s) => s.counter.read()) } satisfies FleetReport & { ok: true });
        } else if (c.cmd === "stop") {
          await Promise.all(sessions.splice(0).map((s) => s.close()));
          for (const stop of sources.splice(0)) stop();
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
