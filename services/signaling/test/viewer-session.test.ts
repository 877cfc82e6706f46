import { afterEach, describe, expect, test } from "bun:test";
import { type Bus, MemoryBus, SharedSubscriptions, createLogger, encodeTruth, serveJson } from "@ballstream/runtime";
import { createSignalingMetrics } from "../src/metrics.ts";
import { CLOSE_CODES, type ClientMessage, DEFAULT_SETTINGS, ProtocolError, applyUpdate, SESSION_ID_PATTERN, type SessionSettings, decodeErrorReport, encodeCoordinates, encodeJson, nowMs, parseMediaOfferRequest, parseSessionControl, parseStartSessionRequest, rtpTimestampFromCaptureTime, subjects, decodeJson, encodeVideoUnit, VideoStreamReader } from "@ballstream/protocol";
import { CHROMIUM_OFFER, mSectionBomb } from "@ballstream/testing";
import { ResumeTokens } from "../src/resume-token.ts";
import { TRUTH_WAIT_MS } from "../src/truth-ring.ts";
import { ViewerSession, type ViewerSessionOptions } from "../src/viewer-session.ts";
import { type FakeControlStream, FakeWebTransportSession } from "./fake-webtransport.ts";
import { truthAt } from "./fixtures.ts";

const log = createLogger("test", { level: "silent" });
const OFFER = { type: "offer", sdp: CHROMIUM_OFFER } as const;

interface Backends {
  starts: unknown[];
  /** Answer further generator starts with an error (no replica left). */
  refuseStarts?: boolean;
  offers: unknown[];
  controls: unknown[];
  ended: string[];
  heartbeats: number;
}

/** Generator and media stand-ins on the bus; `fail` makes one of them answer with an error or not at all. */
function backends(bus: Bus, fail: { generator?: "error" | "silent"; media?: "error" | "after-first" } = {}): Backends {
  const seen: Backends = { starts: [], offers: [], controls: [], ended: [], heartbeats: 0 };
  let settings: SessionSettings = DEFAULT_SETTINGS;
  if (fail.generator !== "silent") {
    serveJson(bus, subjects.generatorStart, parseStartSessionRequest, (req) => {
      seen.starts.push(req);
      if (fail.generator === "error" || seen.refuseStarts) throw new ProtocolError("unavailable", "no worker left");
      settings = req.settings;
      serveJson(bus, subjects.sessionControl(req.sessionId), parseSessionControl, (c) => {
        seen.controls.push(c);
        if (c.type === "control") settings = applyUpdate(settings, c);
        if (Object.keys(c).length > 1) bus.publish(subjects.settings(req.sessionId), encodeJson(settings)); // as the generator does
        return settings;
      }, log);
      return settings;
    }, log);
  }
  serveJson(bus, subjects.mediaOffer, parseMediaOfferRequest, (req) => {
    seen.offers.push(req);
    if (fail.media === "error") throw new ProtocolError("unsupported", "no H.264 in the offer");
    if (fail.media === "after-first" && seen.offers.length > 1) throw new ProtocolError("unavailable", "no replica left");
    return { sdp: `answer to ${req.sdp}`, instance: `media-${seen.offers.length}` };
  }, log);
  bus.subscribe(subjects.ended("*"), (m) => void seen.ended.push(m.subject));
  bus.subscribe(subjects.heartbeat("*"), () => void seen.heartbeats++);
  return seen;
}

const sessions: ViewerSession[] = [];
const metrics = createSignalingMetrics();
function startSession(bus: Bus, overrides: Partial<ViewerSessionOptions> = {}) {
  const wt = new FakeWebTransportSession();
  const session = new ViewerSession(wt, { bus, log, metrics, requestTimeoutMs: 2000, offerTimeoutMs: 5000, heartbeatIntervalMs: 20, ...overrides });
  sessions.push(session);
  return { wt, session };
}

/** A session that has negotiated: the page sent its offer and got the session and the answer. */
async function negotiated(bus: Bus, overrides: Partial<ViewerSessionOptions> = {}) {
  const { wt, session } = startSession(bus, overrides);
  const control = wt.openStream();
  control.send(OFFER);
  const { sessionId } = await control.next("session");
  await control.next("answer");
  return { wt, session, control, sessionId };
}

/** Starts a session, lets `act` play the page, and checks the error the page gets and the close code. */
async function failsWith(bus: Bus, act: (control: FakeControlStream) => void, code: string, closeCode: number, overrides = {}) {
  const { wt, session } = startSession(bus, overrides);
  const control = wt.openStream();
  act(control);
  const error = await control.next("error");
  await session.done;
  expect(error.code).toBe(code);
  expect(wt.closeInfo?.closeCode).toBe(closeCode);
  return error.message;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await Bun.sleep(10);
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.end(CLOSE_CODES.normal, "test over")));
});

describe("ViewerSession", () => {
  test("offer: starts the generator, relays the offer to media, sends session and answer", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { wt, session } = startSession(bus);
    const control = wt.openStream();
    control.send({ ...OFFER, settings: { ...DEFAULT_SETTINGS, fps: 60 } });
    const started = await control.next("session");
    const answer = await control.next("answer");
    expect(started.sessionId).toMatch(SESSION_ID_PATTERN);
    expect(started.settings.fps).toBe(60);
    expect(session.sessionId).toBe(started.sessionId);
    expect(answer.sdp).toBe(`answer to ${CHROMIUM_OFFER}`);
    expect(seen.starts).toEqual([{ sessionId: started.sessionId, settings: { ...DEFAULT_SETTINGS, fps: 60 } }]);
    expect(seen.offers).toEqual([{ sessionId: started.sessionId, sdp: CHROMIUM_OFFER }]);
    await until(() => seen.heartbeats >= 2, "heartbeats");
  });

  test("wtVideo without an SDP: media gets no offer, no answer is sent, media is asked for the units and they reach the page on a stream from a keyframe", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const wanted: unknown[] = [];
    bus.subscribe(subjects.videoWanted("*"), (m) => void wanted.push(decodeJson(m.data)));
    const { wt } = startSession(bus);
    const control = wt.openStream();
    control.send({ type: "offer", wtVideo: true });
    const { sessionId } = await control.next("session");
    expect(seen.offers).toEqual([{ sessionId }]);
    await until(() => wanted.length >= 2, "videoWanted with the heartbeats");
    expect(wanted[0]).toEqual({ keyframe: true });
    const unit = (frameId: number, keyframe: boolean) => encodeVideoUnit({ frameId, captureTimeMs: 5 + frameId, keyframe, data: Uint8Array.of(0, 0, 0, 1, 0x65) });
    for (const [id, key] of [[1, false], [2, true], [3, false]] as const) bus.publish(subjects.video(sessionId), unit(id, key));
    await until(() => (wt.uniStreams[0]?.length ?? 0) >= 2, "the units on a stream");
    const reader = new VideoStreamReader();
    expect(wt.uniStreams[0]!.flatMap((c) => reader.push(c)).map((u) => u.frameId)).toEqual([2, 3]);
    const after = wanted.length;
    await until(() => wanted.length > after, "the next heartbeat");
    expect(wanted.at(-1)).toEqual({ keyframe: false }); // the keyframe came: no more asked for
  });

  test("a WebRTC-only session never asks media for access units", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    let wanted = 0;
    bus.subscribe(subjects.videoWanted("*"), () => void wanted++);
    await negotiated(bus);
    await until(() => seen.heartbeats >= 3, "heartbeats");
    expect(wanted).toBe(0);
  });

  test("coordinates datagrams are answered with error reports against the session's truth", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt, session, sessionId } = await negotiated(bus);
    const t0 = 1_750_000_000_000;
    bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(3, t0, 100, 200), sessionId }));
    await Bun.sleep(10);
    wt.sendDatagram(encodeCoordinates({ rtpTimestamp: rtpTimestampFromCaptureTime(t0), found: true, x: 103, y: 204, decodedAtMs: t0 + 20, detectMs: 1 }));
    await until(() => wt.sentDatagrams.length === 1, "an error report");
    const report = decodeErrorReport(wt.sentDatagrams[0]!);
    expect(report.frameMatched).toBe(true);
    expect(report.frameId).toBe(3);
    expect(report.frameErrorPx).toBeCloseTo(5, 4);
    expect(report.latencyMs).toBeGreaterThan(0);
    expect(report.realtimeErrorPx).toBeGreaterThan(0);

    wt.sendDatagram(new Uint8Array([1, 2, 3]));
    wt.sendDatagram(encodeCoordinates({ rtpTimestamp: 1, found: true, x: 1, y: 1, decodedAtMs: t0, detectMs: 1 }));
    await until(() => wt.sentDatagrams.length === 2, "a second report");
    expect(session.stats.malformedDatagrams).toBe(1);
    const received = async (outcome: string) => (await metrics.coordinatesReceived.get()).values.find((v) => v.labels.outcome === outcome)?.value;
    expect(await received("matched")).toBeGreaterThanOrEqual(1);
    expect(await received("unmatched")).toBeGreaterThanOrEqual(1);
    const rejected = (await metrics.messagesRejected.get()).values.find((v) => v.labels.kind === "datagram" && v.labels.reason === "bad_request");
    expect(rejected?.value).toBeGreaterThanOrEqual(1);
    expect(decodeErrorReport(wt.sentDatagrams[1]!).frameMatched).toBe(false);
    expect(wt.closeInfo).toBeUndefined();
  });

  test("coordinates that overtook their frame's truth are answered when it comes, matched; without it, unmatched after TRUTH_WAIT_MS", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt, sessionId } = await negotiated(bus);
    const t0 = 1_750_000_000_000;
    bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(3, t0, 100, 200), sessionId }));
    await Bun.sleep(10);
    const coordinates = (t: number) => encodeCoordinates({ rtpTimestamp: rtpTimestampFromCaptureTime(t), found: true, x: 110, y: 200, decodedAtMs: t + 5, detectMs: 1 });
    wt.sendDatagram(coordinates(t0 + 33.3)); // frame 4, before its truth
    await Bun.sleep(10);
    expect(wt.sentDatagrams.length).toBe(0);
    bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(4, t0 + 33.3, 108, 200), sessionId }));
    await until(() => wt.sentDatagrams.length === 1, "the report once the truth came");
    const matched = decodeErrorReport(wt.sentDatagrams[0]!);
    expect(matched).toMatchObject({ frameMatched: true, frameId: 4 });
    expect(matched.frameErrorPx).toBeCloseTo(2, 4);

    const sent = performance.now();
    wt.sendDatagram(coordinates(t0 + 66.7)); // frame 5, whose truth never comes
    await until(() => wt.sentDatagrams.length === 2, "the report after the wait");
    expect(performance.now() - sent).toBeGreaterThanOrEqual(TRUTH_WAIT_MS - 5);
    expect(decodeErrorReport(wt.sentDatagrams[1]!).frameMatched).toBe(false);
    expect(wt.closeInfo).toBeUndefined();
  });

  test("truths of another session are not used", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt } = await negotiated(bus);
    bus.publish(subjects.truth("BBBBBBBBBBBBBBBBBBBBBB"), encodeTruth(truthAt(1, 1000)));
    await Bun.sleep(20);
    wt.sendDatagram(encodeCoordinates({ rtpTimestamp: rtpTimestampFromCaptureTime(1000), found: true, x: 1, y: 1, decodedAtMs: 1000, detectMs: 1 }));
    await Bun.sleep(50);
    expect(wt.sentDatagrams).toHaveLength(0);
  });

  test("control changes go to the generator and the page gets the new settings", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { session, control } = await negotiated(bus);
    control.send({ type: "control", fps: 15, speed: 100 });
    const { settings } = await control.next("settings");
    expect(seen.controls).toEqual([{ type: "control", fps: 15, speed: 100 }]); // as the page sent it
    expect(settings.fps).toBe(15);
    expect(session.settings?.speed).toBe(100);
  });

  test("the network setting: media gets it with the offer and every change on its subject; signaling puts it on the page's address until the session ends", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const peerLinks: NonNullable<ViewerSessionOptions["peerLinks"]> = new Map();
    const published: unknown[] = [];
    bus.subscribe(subjects.network("*"), (m) => void published.push(JSON.parse(new TextDecoder().decode(m.data))));
    const { wt, session } = startSession(bus, { peerLinks });
    const control = wt.openStream();
    control.send({ ...OFFER, settings: { network: { down: "loss=0.05", up: "" } } });
    await control.next("session");
    await control.next("answer");
    expect((seen.offers[0] as { network?: unknown }).network).toEqual({ down: "loss=5%", up: "" });
    const link = peerLinks.get(wt.remoteAddress);
    expect(link?.net).toEqual({ egress: { loss: 0.05 } });

    control.send({ type: "control", network: { down: "", up: "delay=20ms" } });
    const { settings } = await control.next("settings");
    expect(settings.network).toEqual({ down: "", up: "delay=20ms" });
    expect(published).toEqual([{ down: "", up: "delay=20ms" }]);
    expect(link?.net).toEqual({ ingress: { delayMs: 20 } });
    control.send({ type: "control", fps: 10 }); // a change without the network leaves it be
    await control.next("settings");
    expect(published).toHaveLength(1);

    await session.end(CLOSE_CODES.normal, "done");
    expect(peerLinks.size).toBe(0);
    expect(link?.net).toEqual({});
  });

  test("no network setting: media's offer has none and no link is made", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const peerLinks: NonNullable<ViewerSessionOptions["peerLinks"]> = new Map();
    await negotiated(bus, { peerLinks });
    expect(seen.offers[0]).not.toHaveProperty("network");
    expect(peerLinks.size).toBe(0);
  });

  test("a bad network setting is refused as bad_request before media or the generator hear of it", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const message = await failsWith(bus, (c) => c.send({ ...OFFER, settings: { network: { down: `loss=${"9".repeat(200)}`, up: "" } } }), "bad_request", CLOSE_CODES.protocolError);
    expect(message).toMatch(/settings\.network\.down/);
    expect(message.length).toBeLessThan(200);
    expect([seen.offers, seen.starts]).toEqual([[], []]);
  });

  test("stop ends the session normally and publishes ended", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { wt, session, control, sessionId } = await negotiated(bus);
    control.send({ type: "stop" });
    await session.done;
    expect(wt.closeInfo).toEqual({ closeCode: CLOSE_CODES.normal, reason: "stopped by the viewer" });
    await until(() => seen.ended.length === 1, "ended");
    expect(seen.ended).toEqual([subjects.ended(sessionId)]);
    const beats = seen.heartbeats;
    await Bun.sleep(60);
    expect(seen.heartbeats).toBe(beats);
  });

  test("the page closing the transport ends everything of the session", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { wt, session } = await negotiated(bus);
    wt.close({ closeCode: 0, reason: "tab closed" });
    await session.done;
    await until(() => seen.ended.length === 1, "ended");
  });

  test("a generator error reaches the page as an error and a backendError close", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus, { generator: "error" });
    const message = await failsWith(bus, (c) => c.send(OFFER), "unavailable", CLOSE_CODES.unavailable);
    expect(message).toContain("no worker left");
    expect(seen.offers).toHaveLength(1); // media answered first; `ended` releases its peer
    await until(() => seen.ended.length === 1, "ended");
  });

  test("a generator that never answers times out", async () => {
    const bus = new MemoryBus();
    backends(bus, { generator: "silent" });
    bus.subscribe(subjects.generatorStart, () => undefined, { queue: "generator" });
    await failsWith(bus, (c) => c.send(OFFER), "timeout", CLOSE_CODES.unavailable, { requestTimeoutMs: 100 });
  });

  test("no generator at all: unavailable", async () => {
    await failsWith(new MemoryBus(), (c) => c.send(OFFER), "unavailable", CLOSE_CODES.unavailable);
  });

  test("media rejecting the offer reaches the page, and no generator session was started", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus, { media: "error" });
    expect(await failsWith(bus, (c) => c.send(OFFER), "unsupported", CLOSE_CODES.backendError)).toContain("media rejected the offer");
    expect(seen.starts).toEqual([]); // no generator worker for an offer media refuses
  });

  test("a malformed control message is a protocol error", async () => {
    const garbage = new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]);
    await failsWith(new MemoryBus(), (c) => c.sendBytes(garbage), "bad_request", CLOSE_CODES.protocolError);
  });

  test("an oversized control message is refused before it is buffered", async () => {
    const huge = new Uint8Array([0x7f, 0xff, 0xff, 0xff]);
    await failsWith(new MemoryBus(), (c) => c.sendBytes(huge), "too_large", CLOSE_CODES.protocolError);
  });

  test("an unknown type of 65,500 characters: a short error and a clean close, nothing unhandled (it once killed the process)", async () => {
    const unhandled: unknown[] = [];
    const collect = (err: unknown) => void unhandled.push(err);
    process.on("unhandledRejection", collect);
    try {
      const message = await failsWith(new MemoryBus(), (c) => c.send({ type: "x".repeat(65_500) } as unknown as ClientMessage), "bad_request", CLOSE_CODES.protocolError);
      expect(message).toBe(`unknown message type "${"x".repeat(31)}…"`);
      await Bun.sleep(10);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", collect);
    }
  });

  test("an offer the page would not send (the m-section bomb, audio, no BUNDLE) is refused before the generator or media hear of it", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    for (const sdp of [mSectionBomb(), CHROMIUM_OFFER.replace("m=video", "m=audio"), CHROMIUM_OFFER.replace("a=group:BUNDLE 0\r\n", "")]) {
      const message = await failsWith(bus, (c) => c.send({ type: "offer", sdp }), "bad_request", CLOSE_CODES.protocolError);
      expect(message).toStartWith("not an offer the page sends: ");
    }
    expect([seen.starts, seen.offers, seen.ended]).toEqual([[], [], []]);
  });

  test("control before the offer, or a second offer, is a protocol error", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const early = await failsWith(bus, (c) => c.send({ type: "control", fps: 10 }), "bad_request", CLOSE_CODES.protocolError);
    expect(early).toContain("before the session started");
    const twice = await failsWith(bus, (c) => [OFFER, OFFER].forEach((m) => c.send(m)), "bad_request", CLOSE_CODES.protocolError);
    expect(twice).toContain("already has an offer");
  });

  test("no offer in time: idle timeout", async () => {
    const bus = new MemoryBus();
    const { wt, session } = startSession(bus, { offerTimeoutMs: 50 });
    await session.done;
    expect(wt.closeInfo?.closeCode).toBe(CLOSE_CODES.idleTimeout);
  });

  test("a fatal event is forwarded and ends the session; a minor one only forwarded", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt, session, control, sessionId } = await negotiated(bus);
    bus.publish(subjects.events(sessionId), encodeJson({ source: "media", message: "slow encoder", fatal: false }));
    bus.publish(subjects.events(sessionId), new Uint8Array([1, 2]));
    bus.publish(subjects.events(sessionId), encodeJson({ source: "generator", message: "worker died", fatal: true }));
    await session.done;
    const events = control.received.filter((m) => m.type === "event");
    expect(events).toEqual([
      { type: "event", source: "media", message: "slow encoder", fatal: false },
      { type: "event", source: "generator", message: "worker died", fatal: true },
    ]);
    expect(wt.closeInfo).toEqual({ closeCode: CLOSE_CODES.backendError, reason: "generator: worker died" });
  });

  test("end with a server-shutdown code closes the transport with it", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { wt, session } = await negotiated(bus);
    await session.end(CLOSE_CODES.serverShutdown, "the server is shutting down");
    expect(wt.closeInfo).toEqual({ closeCode: CLOSE_CODES.serverShutdown, reason: "the server is shutting down" });
    await until(() => seen.ended.length === 1, "ended");
  });

  test("control messages over the rate cap end the session with rate_limited / limitExceeded", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt, session, control } = await negotiated(bus, { controlRatePerS: 2 });
    for (let i = 0; i < 5; i++) control.send({ type: "control", fps: 30 });
    const error = await control.next("error");
    await session.done;
    expect(error.code).toBe("rate_limited");
    expect(wt.closeInfo?.closeCode).toBe(CLOSE_CODES.limitExceeded);
    const rejected = (await metrics.messagesRejected.get()).values.find((v) => v.labels.kind === "control" && v.labels.reason === "rate_limited");
    expect(rejected?.value).toBeGreaterThanOrEqual(1);
  });

  test("datagrams over the rate cap are dropped and counted; the session lives on", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt, session } = await negotiated(bus, { datagramRatePerS: 3 });
    for (let i = 0; i < 10; i++) wt.sendDatagram(new Uint8Array([9]));
    await until(() => session.stats.malformedDatagrams + session.stats.rateLimitedDatagrams === 10, "10 datagrams handled");
    expect(session.stats.rateLimitedDatagrams).toBeGreaterThanOrEqual(6);
    expect(wt.closeInfo).toBeUndefined();
    const rejected = (await metrics.messagesRejected.get()).values.find((v) => v.labels.kind === "datagram" && v.labels.reason === "rate_limited");
    expect(rejected?.value).toBeGreaterThanOrEqual(6);
  });

  test("no truth for truthTimeoutMs: the page is told the generator stopped", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { wt, session, control } = await negotiated(bus, { truthTimeoutMs: 100 });
    const error = await control.next("error");
    await session.done;
    expect(error.code).toBe("stalled");
    expect(error.message).toContain("generator");
    expect(wt.closeInfo?.closeCode).toBe(CLOSE_CODES.backendError);
    await until(() => seen.ended.length === 1, "ended");
  });

  test("a generator gone silent: the old one is told to stop, another replica starts the session from the last truth, the page is told", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { control, sessionId, session } = await negotiated(bus, { takeoverAfterMs: 150, truthTimeoutMs: 5000 });
    const t = nowMs();
    for (let k = 0; k < 3; k++) bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(10 + k, t + k * 33, 100 + k, 200, 300, -40), sessionId }));
    const event = await control.next("event");
    expect(event.message).toMatch(/went silent .* another replica took over/);
    expect(seen.controls).toContainEqual({ type: "stop" }); // the old one first
    expect(seen.starts).toHaveLength(2);
    const takeover = seen.starts[1] as { resume?: { ball: Record<string, number>; nextFrameId: number } };
    expect(takeover.resume?.nextFrameId).toBe(13);
    expect(takeover.resume?.ball).toMatchObject({ x: 102, y: 200, vx: 300, vy: -40, timeMs: t + 66 });
    expect(session.settings).toEqual(DEFAULT_SETTINGS);
  });

  test("a media replica gone silent: the page is asked to renegotiate, its new offer goes to media for the same session, the generator goes on", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const renegotiations = async () => (await metrics.mediaRenegotiations.get()).values.find((v) => v.labels.reason === "silent")?.value ?? 0;
    const before = await renegotiations();
    const { control, sessionId } = await negotiated(bus, { mediaTakeoverAfterMs: 120 });
    const alive = setInterval(() => bus.publish(subjects.mediaAlive("media-1"), encodeJson({ leaving: false })), 30);
    await Bun.sleep(250);
    expect(control.received.some((m) => m.type === "renegotiate")).toBe(false); // alive: nothing happens
    clearInterval(alive);
    const asked = await control.next("renegotiate");
    expect(asked.reason).toMatch(/media replica media-1 went silent for \d+ ms/);
    control.send(OFFER);
    const answers = () => control.received.filter((m) => m.type === "answer");
    await until(() => answers().length === 2, "the second answer");
    expect(answers()[1]).toEqual({ type: "answer", sdp: `answer to ${CHROMIUM_OFFER}` });
    expect(seen.offers.map((o) => (o as { sessionId: string }).sessionId)).toEqual([sessionId, sessionId]);
    expect(seen.starts).toHaveLength(1);
    expect(await renegotiations()).toBe(before + 1);
    control.send(OFFER); // not asked for: a second offer is still refused
    expect((await control.next("error")).code).toBe("bad_request");
  });

  test("this process held up past the media timeout (a loaded machine): no renegotiation with the live replica, nor a generator takeover; a replica then silent still is", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { control, sessionId } = await negotiated(bus, { mediaTakeoverAfterMs: 120, takeoverAfterMs: 120, truthTimeoutMs: 5000 });
    const beat = () => {
      bus.publish(subjects.mediaAlive("media-1"), encodeJson({ leaving: false }));
      bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(frameId++, nowMs(), 100, 200, 300, -40), sessionId }));
    };
    let frameId = 1;
    beat();
    await Bun.sleep(5); // heard
    Bun.sleepSync(400); // the event loop held up: the watchdog's late tick runs before the next heartbeat
    const alive = setInterval(beat, 30);
    await Bun.sleep(250);
    expect(control.received.filter((m) => m.type === "renegotiate" || m.type === "event")).toEqual([]);
    expect(seen.starts).toHaveLength(1);
    clearInterval(alive);
    expect((await control.next("renegotiate")).reason).toMatch(/media replica media-1 went silent for \d+ ms/);
  });

  test("a media replica that says it is leaving: renegotiated at once; a new offer nobody answers ends the session as unavailable (not now)", async () => {
    const bus = new MemoryBus();
    backends(bus, { media: "after-first" });
    const { control, wt, session } = await negotiated(bus, { mediaTakeoverAfterMs: 60_000 });
    bus.publish(subjects.mediaAlive("media-1"), encodeJson({ leaving: true }));
    expect((await control.next("renegotiate")).reason).toMatch(/media-1 is stopping/);
    control.send(OFFER);
    const error = await control.next("error");
    await session.done;
    expect([error.code, error.message]).toEqual(["unavailable", "no media replica took the session over: no replica left"]);
    expect(wt.closeInfo?.closeCode).toBe(CLOSE_CODES.unavailable);
  });

  test("resume: the session message carries a token; another replica with the same secret adopts the session without media or a new generator", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const resumeTokens = new ResumeTokens("the replicas' shared secret");
    const first = await negotiated(bus, { resumeTokens });
    const { resumeToken } = await first.control.next("session");
    expect(resumeToken).toStartWith("media-1.");
    const { wt, session } = startSession(bus, { resumeTokens: new ResumeTokens("the replicas' shared secret") });
    const control = wt.openStream();
    const beats = seen.heartbeats;
    control.send({ type: "resume", sessionId: first.sessionId, token: resumeToken! });
    const resumed = await control.next("session");
    expect([resumed.sessionId, resumed.resumeToken, session.sessionId]).toEqual([first.sessionId, resumeToken, first.sessionId]);
    expect([seen.offers.length, seen.starts.length]).toEqual([1, 1]); // no offer to media, no generator start
    expect(seen.controls).toContainEqual({ type: "control" }); // the generator was asked whether it still has it
    await until(() => seen.heartbeats > beats, "the heartbeat again");
    expect(control.received.some((m) => m.type === "answer")).toBe(false);
    // its old viewer session (its signaling still alive, say, behind a partition) heard of it and ended without releasing it
    await first.session.done;
    expect(first.wt.closeInfo).toEqual({ closeCode: CLOSE_CODES.normal, reason: "the session was resumed on another connection" });
    expect(seen.ended).toEqual([]);
  });

  describe("attach: the detection worker's connection carries a session's coordinates", () => {
    /** A session with tokens, and an `attach` lookup over every session started in the test. */
    async function attachable(bus: Bus) {
      const resumeTokens = new ResumeTokens("the replicas' shared secret");
      const attached: ViewerSession[] = [];
      const attach = { find: (id: string) => sessions.find((s) => s.sessionId === id), attached: (c: ViewerSession) => void attached.push(c) };
      const page = await negotiated(bus, { resumeTokens, attach });
      const { resumeToken } = page.control.received.find((m) => m.type === "session") as { resumeToken: string };
      const connect = (message: ClientMessage) => {
        const worker = startSession(bus, { resumeTokens, attach });
        const control = worker.wt.openStream();
        control.send(message);
        return { ...worker, control };
      };
      return { page, token: resumeToken, attached, connect };
    }

    test("its datagrams are answered on the session's own connection, counted as the session's; it releases nothing", async () => {
      const bus = new MemoryBus();
      const seen = backends(bus);
      const { page, token, attached, connect } = await attachable(bus);
      const worker = connect({ type: "attach", sessionId: page.sessionId, token });
      expect(await worker.control.next("attached")).toEqual({ type: "attached", sessionId: page.sessionId });
      expect(attached).toEqual([worker.session]);
      const t0 = 1_750_000_000_000;
      bus.publish(subjects.truth(page.sessionId), encodeTruth({ ...truthAt(3, t0, 100, 200), sessionId: page.sessionId }));
      await Bun.sleep(10);
      worker.wt.sendDatagram(encodeCoordinates({ rtpTimestamp: rtpTimestampFromCaptureTime(t0), found: true, x: 103, y: 204, decodedAtMs: t0 + 20, detectMs: 1 }));
      await until(() => page.wt.sentDatagrams.length === 1, "the report on the page's connection");
      expect(decodeErrorReport(page.wt.sentDatagrams[0]!).frameErrorPx).toBeCloseTo(5, 4);
      expect(worker.wt.sentDatagrams).toEqual([]);
      expect([page.session.stats.coordinates, worker.session.stats.coordinates]).toEqual([1, 0]);
      worker.control.send({ type: "control", fps: 10 });
      expect((await worker.control.next("error")).code).toBe("bad_request"); // nothing but coordinates
      await worker.session.done;
      expect(page.wt.closeInfo).toBeUndefined();
      expect(seen.ended).toEqual([]);
    });

    test("the page's network setting carries the attached connection's datagrams too, live changes included, until it ends", async () => {
      const bus = new MemoryBus();
      backends(bus);
      const resumeTokens = new ResumeTokens("the replicas' shared secret");
      const peerLinks: NonNullable<ViewerSessionOptions["peerLinks"]> = new Map();
      const attach = { find: (id: string) => sessions.find((s) => s.sessionId === id), attached: () => undefined };
      const page = startSession(bus, { resumeTokens, attach, peerLinks });
      const control = page.wt.openStream();
      control.send({ ...OFFER, settings: { network: { down: "", up: "delay=20ms" } } });
      const { sessionId, resumeToken } = await control.next("session");
      const worker = startSession(bus, { resumeTokens, attach, peerLinks });
      const workerControl = worker.wt.openStream();
      workerControl.send({ type: "attach", sessionId, token: resumeToken! });
      await workerControl.next("attached");
      const link = peerLinks.get(page.wt.remoteAddress);
      expect(worker.wt.remoteAddress).not.toBe(page.wt.remoteAddress);
      expect(peerLinks.get(worker.wt.remoteAddress)).toBe(link!);
      control.send({ type: "control", network: { down: "", up: "loss=0.1" } });
      await control.next("settings");
      expect(peerLinks.get(worker.wt.remoteAddress)?.net).toEqual({ ingress: { loss: 0.1 } });
      await worker.session.end(CLOSE_CODES.normal, "worker gone");
      expect([...peerLinks.keys()]).toEqual([page.wt.remoteAddress]);
      await page.session.end(CLOSE_CODES.normal, "done");
      expect(peerLinks.size).toBe(0);
    });

    test("two attach at once (one worker per video path); a third replaces the oldest; the session's end closes the rest", async () => {
      const bus = new MemoryBus();
      backends(bus);
      const { page, token, connect } = await attachable(bus);
      const first = connect({ type: "attach", sessionId: page.sessionId, token });
      await first.control.next("attached");
      const second = connect({ type: "attach", sessionId: page.sessionId, token });
      await second.control.next("attached");
      await Bun.sleep(10);
      expect([first.wt.closeInfo, second.wt.closeInfo]).toEqual([undefined, undefined]);
      const t0 = 1_750_000_000_000;
      bus.publish(subjects.truth(page.sessionId), encodeTruth({ ...truthAt(3, t0, 100, 200), sessionId: page.sessionId }));
      await Bun.sleep(10);
      for (const c of [first, second]) c.wt.sendDatagram(encodeCoordinates({ rtpTimestamp: rtpTimestampFromCaptureTime(t0), found: true, x: 103, y: 204, decodedAtMs: t0 + 20, detectMs: 1 }));
      await until(() => page.wt.sentDatagrams.length === 2, "a report for each attached connection's coordinates");
      const third = connect({ type: "attach", sessionId: page.sessionId, token });
      await third.control.next("attached");
      await first.session.done;
      expect(first.wt.closeInfo).toEqual({ closeCode: CLOSE_CODES.normal, reason: "replaced by a newer attached connection" });
      expect(second.wt.closeInfo).toBeUndefined();
      await page.session.end(CLOSE_CODES.normal, "stopped");
      await Promise.all([second.session.done, third.session.done]);
      expect([second.wt.closeInfo, third.wt.closeInfo]).toEqual([{ closeCode: CLOSE_CODES.normal, reason: "its session ended" }, { closeCode: CLOSE_CODES.normal, reason: "its session ended" }]);
    });

    test("a forged token, an unknown session, a session's own connection or an attach after an offer: refused, nothing disturbed", async () => {
      const bus = new MemoryBus();
      backends(bus);
      const { page, token, attached, connect } = await attachable(bus);
      const refused = async (message: ClientMessage, follow?: ClientMessage) => {
        const c = connect(message);
        if (follow) {
          await c.control.next("session");
          c.control.send(follow);
        }
        const error = await c.control.next("error");
        await c.session.done;
        return [error.code, c.wt.closeInfo?.closeCode];
      };
      expect(await refused({ type: "attach", sessionId: page.sessionId, token: "media-1.forged" })).toEqual(["forbidden", CLOSE_CODES.protocolError]);
      expect(await refused({ type: "attach", sessionId: "Q".repeat(22), token })).toEqual(["unknown_session", CLOSE_CODES.protocolError]);
      expect(await refused(OFFER, { type: "attach", sessionId: page.sessionId, token })).toEqual(["bad_request", CLOSE_CODES.protocolError]);
      const worker = connect({ type: "attach", sessionId: page.sessionId, token });
      await worker.control.next("attached");
      expect(worker.session.sessionId).toBeUndefined();
      expect(attached).toEqual([worker.session]);
      expect(page.wt.closeInfo).toBeUndefined();
      expect(worker.wt.closeInfo).toBeUndefined();
    });
  });

  test("a shutdown keeps a started session for a resume: no ended published", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { session } = await negotiated(bus, { resumeTokens: new ResumeTokens("the replicas' shared secret") });
    await session.end(CLOSE_CODES.serverShutdown, "the server is shutting down", true);
    expect(seen.ended).toEqual([]); // generator and media keep it for their heartbeat timeout
  });

  test("resume with a bad token, or of a session whose generator is gone: unknown_session, nothing adopted", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const resumeTokens = new ResumeTokens("the replicas' shared secret");
    const resume = (token: string) => (c: FakeControlStream) => c.send({ type: "resume", sessionId: "Q".repeat(22), token });
    expect(await failsWith(bus, resume("media-1.forged"), "unknown_session", CLOSE_CODES.protocolError, { resumeTokens })).toMatch(/token is not valid/);
    expect(await failsWith(bus, resume(resumeTokens.issue("Q".repeat(22), "media-1")), "unknown_session", CLOSE_CODES.protocolError, { resumeTokens })).toMatch(/is gone/);
    expect(await failsWith(bus, resume("x.y"), "unknown_session", CLOSE_CODES.protocolError)).toMatch(/not valid/); // no tokens at all
    expect(seen.heartbeats).toBe(0);
  });

  test("a shutdown still publishes ended for a session that never started (nothing to resume)", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus, { generator: "silent" });
    const { session, wt } = startSession(bus, { requestTimeoutMs: 5000 });
    wt.openStream().send(OFFER);
    await until(() => seen.offers.length === 1, "the offer at media");
    await session.end(CLOSE_CODES.serverShutdown, "the server is shutting down", true);
    expect(seen.ended).toHaveLength(1);
  });

  test("a takeover nobody takes: counted as failed, and the truth timeout then ends the session", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const { control, sessionId } = await negotiated(bus, { takeoverAfterMs: 100, truthTimeoutMs: 600 });
    bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(1, nowMs()), sessionId }));
    seen.refuseStarts = true;
    const error = await control.next("error");
    expect(error.code).toBe("stalled");
    expect(seen.starts).toHaveLength(2); // one takeover attempt, refused
  });

  test("coordinates that stop for videoTimeoutMs while truths flow: the page is told the video stalled", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt, session, control, sessionId } = await negotiated(bus, { truthTimeoutMs: 5000, videoTimeoutMs: 150 });
    const truths = setInterval(() => bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(1, Date.now()), sessionId })), 20);
    try {
      await Bun.sleep(300);
      expect(wt.closeInfo).toBeUndefined(); // no coordinates yet: nothing to miss
      wt.sendDatagram(encodeCoordinates({ rtpTimestamp: 1, found: true, x: 1, y: 1, decodedAtMs: Date.now(), detectMs: 1 }));
      const error = await control.next("error");
      await session.done;
      expect(error.code).toBe("stalled");
      expect(error.message).toContain("media");
      expect(wt.closeInfo?.closeCode).toBe(CLOSE_CODES.backendError);
    } finally {
      clearInterval(truths);
    }
  });

  test("a closed bus does not crash the session", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const { wt, session } = await negotiated(bus);
    await bus.drain();
    await Bun.sleep(50);
    await session.end(CLOSE_CODES.serverShutdown, "bye");
    expect(wt.closeInfo?.closeCode).toBe(CLOSE_CODES.serverShutdown);
  });
});

describe("channels", () => {
  const tokens = new ResumeTokens("a shared secret of 16+ bytes");
  const shared = new Map<Bus, SharedSubscriptions>();
  async function joinChannel(bus: Bus, extra: Partial<Extract<ClientMessage, { type: "offer" }>> = {}) {
    if (!shared.has(bus)) shared.set(bus, new SharedSubscriptions(bus, log));
    const { wt, session } = startSession(bus, { resumeTokens: tokens, channelSubjects: shared.get(bus)! });
    const control = wt.openStream();
    control.send({ ...OFFER, channel: "lobby", ...extra });
    const started = await control.next("session");
    await control.next("answer");
    return { wt, session, control, started };
  }

  test("the first viewer starts the channel's source and owns it; the second watches the same source with its own media session", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const first = await joinChannel(bus, { settings: { ...DEFAULT_SETTINGS, fps: 50 } });
    const second = await joinChannel(bus, { settings: { ...DEFAULT_SETTINGS, fps: 10 } });
    expect(first.started.channel).toEqual({ name: "lobby", owner: true, ownerToken: expect.any(String) });
    expect(second.started.channel).toEqual({ name: "lobby", owner: false });
    expect(second.started.settings.fps).toBe(50); // the channel's, not its own wish
    expect(seen.starts).toHaveLength(1);
    const source = (seen.starts[0] as { sessionId: string; channel?: boolean }).sessionId;
    expect((seen.starts[0] as { channel?: boolean }).channel).toBe(true);
    expect(seen.offers).toEqual([
      { sessionId: source, channelSource: true },
      { sessionId: first.started.sessionId, sdp: CHROMIUM_OFFER, channel: source },
      { sessionId: second.started.sessionId, sdp: CHROMIUM_OFFER, channel: source },
    ]);
    expect(first.started.sessionId).not.toBe(second.started.sessionId);
  });

  test("only the owner changes fps and speed, every viewer sees it; a viewer's network is its own", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const owner = await joinChannel(bus);
    const viewer = await joinChannel(bus);
    const settingsOf = (c: FakeControlStream) => c.received.flatMap((m) => (m.type === "settings" ? [m.settings] : []));
    const networks: string[] = [];
    bus.subscribe(subjects.network("*"), (m) => void networks.push(m.subject));
    viewer.control.send({ type: "control", network: { down: "delay=20ms", up: "" } });
    await until(() => settingsOf(viewer.control).length === 1, "the viewer's own settings");
    expect(settingsOf(viewer.control)[0]!.network.down).toBe("delay=20ms");
    expect(networks).toEqual([subjects.network(viewer.started.sessionId)]);
    expect(settingsOf(owner.control)).toEqual([]); // nobody else hears of a viewer's network
    owner.control.send({ type: "control", fps: 15 });
    await until(() => settingsOf(viewer.control).length === 2, "the owner's change at the viewer");
    expect(settingsOf(owner.control).at(-1)!.fps).toBe(15);
    expect(settingsOf(viewer.control)[1]).toMatchObject({ fps: 15, network: { down: "delay=20ms" } }); // the owner's change leaves the viewer's own network
    viewer.control.send({ type: "control", fps: 60 });
    const refused = await viewer.control.next("error");
    expect(refused.code).toBe("forbidden");
    expect(refused.message).toContain("only the owner of channel lobby");
    expect(seen.controls.filter((c) => (c as { fps?: number }).fps === 60)).toEqual([]);
  });

  test("a replica's viewers of a channel share one subscription to each of its subjects; the last out releases them", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const a = await joinChannel(bus);
    const b = await joinChannel(bus);
    expect(shared.get(bus)!.size).toBe(3); // the channel's truth, events and settings, whatever the viewers
    for (const v of [a, b]) {
      v.control.send({ type: "stop" });
      await v.session.done;
    }
    expect(shared.get(bus)!.size).toBe(0);
  });

  test("the owner token makes a later viewer an owner; a forged one does not", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const first = await joinChannel(bus);
    const again = await joinChannel(bus, { ownerToken: first.started.channel!.ownerToken! });
    expect(again.started.channel?.owner).toBe(true);
    const forged = await joinChannel(bus, { ownerToken: "forged.token" });
    expect(forged.started.channel).toEqual({ name: "lobby", owner: false });
  });

  test("a viewer leaving ends its own media session, not the channel; it beat for both while it lived", async () => {
    const bus = new MemoryBus();
    const seen = backends(bus);
    const beats = new Set<string>();
    bus.subscribe(subjects.heartbeat("*"), (m) => void beats.add(m.subject));
    const a = await joinChannel(bus);
    const source = (seen.starts[0] as { sessionId: string }).sessionId;
    await until(() => beats.has(subjects.heartbeat(source)) && beats.has(subjects.heartbeat(a.started.sessionId)), "both heartbeats");
    a.control.send({ type: "stop" });
    await a.session.done;
    expect(seen.ended).toEqual([subjects.ended(a.started.sessionId)]);
  });

  test("a channel viewer resumes on another replica with its token and channel; the token is worth nothing for another channel", async () => {
    const bus = new MemoryBus();
    backends(bus);
    const a = await joinChannel(bus);
    const { wt } = startSession(bus, { resumeTokens: tokens });
    const control = wt.openStream();
    control.send({ type: "resume", sessionId: a.started.sessionId, token: a.started.resumeToken!, channel: "lobby", ownerToken: a.started.channel!.ownerToken! });
    const resumed = await control.next("session");
    expect(resumed.channel).toEqual({ name: "lobby", owner: true, ownerToken: a.started.channel!.ownerToken! });
    const other = startSession(bus, { resumeTokens: tokens });
    const c2 = other.wt.openStream();
    c2.send({ type: "resume", sessionId: a.started.sessionId, token: a.started.resumeToken!, channel: "elsewhere" });
    expect((await c2.next("error")).code).toBe("unknown_session");
  });
});
