/** The generator service on the in-process bus, with real worker threads. */
import { afterEach, describe, expect, test } from "bun:test";
import { type BusMessage, FrameAssembler, type FrameCompression, MemoryBus, createRegistry, decodeFrame, decodeTruth, requestJson } from "@ballstream/runtime";
import { DEFAULT_SETTINGS, ProtocolError, type SessionSettings, ballAt, encodeJson, nowMs, parseSessionEvent, parseSettings, decodeJson, subjects } from "@ballstream/protocol";
import { type GeneratorService, startGenerator } from "../src/mod.ts";
import { collectingLogger, waitFor } from "./helpers.ts";

const ids = Array.from({ length: 20 }, (_, i) => `session${String(i).padStart(2, "0")}_abcdefghijkl`);
const started: GeneratorService[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((g) => g.stop()));
});

async function setup(options: { heartbeatTimeoutMs?: number; maxSessions?: number; maxPayload?: number; worker?: string; frameCompression?: FrameCompression } = {}) {
  const { log, lines } = collectingLogger();
  const bus = new MemoryBus(log, options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload });
  const registry = createRegistry();
  const generator = await startGenerator({
    bus,
    log,
    registry,
    config: { heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 60_000, maxSessions: options.maxSessions ?? 16, ...(options.frameCompression ? { frameCompression: options.frameCompression } : {}) },
    ...(options.worker ? { workerUrl: new URL(`./fixtures/${options.worker}`, import.meta.url) } : {}),
  });
  started.push(generator);
  const start = (sessionId: string, settings: Partial<SessionSettings> = {}) =>
    requestJson(bus, subjects.generatorStart, { sessionId, settings }, parseSettings, 10_000);
  const control = (sessionId: string, body: unknown) => requestJson(bus, subjects.sessionControl(sessionId), body, parseSettings, 10_000);
  const collect = (subject: string) => {
    const got: BusMessage[] = [];
    bus.subscribe(subject, (m) => got.push(m));
    return got;
  };
  const ended = (sessionId: string) => lines.find((l) => l.msg === "session ended" && l.sessionId === sessionId);
  const gauge = async () => (await registry.getSingleMetric("ballstream_generator_active_sessions")!.get()).values[0]!.value;
  return { bus, log, lines, generator, start, control, collect, ended, gauge, registry };
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProtocolError);
  return (err as ProtocolError).code;
}

describe("generator service", () => {
  test("a started session publishes frames and truths on the clock, with matching ids and times", async () => {
    const g = await setup();
    const frames = g.collect(subjects.frames(ids[0]!));
    const truths = g.collect(subjects.truth(ids[0]!));
    const settings = await g.start(ids[0]!, { fps: 60, width: 320, height: 240, radius: 10 });
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, fps: 60, width: 320, height: 240, radius: 10 });
    expect(g.generator.sessionIds()).toEqual([ids[0]!]);
    await waitFor(() => frames.length >= 10 && truths.length >= 10);
    const fs = frames.slice(0, 10).map((m) => decodeFrame(m.data));
    const ts = truths.slice(0, 10).map((m) => decodeTruth(m.data));
    for (let k = 0; k < 10; k++) {
      expect(fs[k]!.frameId).toBe(ts[k]!.frameId);
      expect([fs[k]!.x, fs[k]!.y, fs[k]!.captureTimeMs]).toEqual([ts[k]!.x, ts[k]!.y, ts[k]!.captureTimeMs]);
      expect([fs[k]!.width, fs[k]!.height, fs[k]!.sessionId]).toEqual([320, 240, ids[0]!]);
    }
    // Consecutive frames sit on the 60 fps grid (a skipped slot makes a gap of whole intervals).
    for (let k = 1; k < 10; k++) {
      const gap = (ts[k]!.captureTimeMs - ts[k - 1]!.captureTimeMs) / (1000 / 60);
      expect(Math.abs(gap - Math.round(gap))).toBeLessThan(1e-3);
      expect(Math.round(gap)).toBeGreaterThanOrEqual(1);
      expect(ts[k]!.frameId).toBe(ts[k - 1]!.frameId + 1);
    }
  });

  test("a takeover start continues the given trajectory and frame ids (another generator's session)", async () => {
    const g = await setup();
    const truths = g.collect(subjects.truth(ids[1]!));
    const ball = { x: 100, y: 100, vx: 300, vy: -100, timeMs: nowMs() - 500 };
    await requestJson(g.bus, subjects.generatorStart, { sessionId: ids[1]!, settings: { fps: 30 }, resume: { ball, nextFrameId: 1000 } }, parseSettings, 10_000);
    await waitFor(() => truths.length >= 3);
    const t = truths.slice(0, 3).map((m) => decodeTruth(m.data));
    expect(t.map((x) => x.frameId)).toEqual([1000, 1001, 1002]);
    for (const truth of t) {
      const expected = ballAt({ ...ball, width: 640, height: 480, radius: 24 }, truth.captureTimeMs);
      expect(truth.x).toBeCloseTo(expected.x, 6);
      expect(truth.y).toBeCloseTo(expected.y, 6);
    }
    expect(g.lines.some((l) => l.msg === "session taken over" && l.sessionId === ids[1])).toBe(true);
  });

  test("the flat scene's frames are patches on the in-process bus by default, raw with `none`, zstd-compressed when configured", async () => {
    const byDefault = await setup();
    const defaultFrames = byDefault.collect(subjects.frames(ids[2]!));
    await byDefault.start(ids[2]!, { fps: 30 });
    await waitFor(() => defaultFrames.length >= 2);
    expect(defaultFrames[0]!.data[5]).toBe(3);
    expect(defaultFrames[0]!.data.length).toBeLessThan(20_000);
    const raw = await setup({ frameCompression: "none" });
    const packed = await setup({ frameCompression: "zstd" });
    const rawFrames = raw.collect(subjects.frames(ids[0]!));
    const packedFrames = packed.collect(subjects.frames(ids[1]!));
    await raw.start(ids[0]!, { fps: 30 });
    await packed.start(ids[1]!, { fps: 30 });
    await waitFor(() => rawFrames.length >= 2 && packedFrames.length >= 2);
    expect([rawFrames[0]!.data[5], rawFrames[0]!.data.length]).toEqual([1, 460_800 + 64 + ids[0]!.length]);
    expect(packedFrames[0]!.data[5]).toBe(3); // the flat scene's patch: background + the ball's box
    expect(packedFrames[0]!.data.length).toBeLessThan(20_000);
    const f = decodeFrame(packedFrames[0]!.data);
    expect([f.sessionId, f.pixelFormat, f.pixels.length]).toEqual([ids[1]!, "I420", 460_800]);
  });

  test("a 1920x1080 frame over the 1 MiB bus limit travels as chunks and is rebuilt, ball where its truth says", async () => {
    const g = await setup({ frameCompression: "none" });
    const frames = g.collect(subjects.frames(ids[15]!));
    await g.start(ids[15]!, { fps: 30, width: 1920, height: 1080 });
    await waitFor(() => frames.length >= 6);
    expect(frames.every((m) => m.data.length <= g.bus.maxPayload)).toBe(true);
    const assembler = new FrameAssembler();
    const rebuilt = frames.map((m) => assembler.push(m.data)).filter((f) => f !== undefined);
    expect(rebuilt.length).toBe(Math.floor(frames.length / 3));
    const f = rebuilt[0]!;
    expect([f.width, f.height, f.pixels.length]).toEqual([1920, 1080, 1920 * 1080 * 1.5]);
    expect(f.pixels[Math.floor(f.y) * 1920 + Math.floor(f.x)]).not.toBe(f.pixels[0]); // the ball's centre is not background
  });

  test("control changes fps and speed live, then stops the session and its worker", async () => {
    const g = await setup();
    const id = ids[1]!;
    const truths = g.collect(subjects.truth(id));
    const frames = g.collect(subjects.frames(id));
    await g.start(id, { fps: 20 });
    await waitFor(() => truths.length >= 2);
    expect(decodeFrame(frames[0]!.data).fps).toBe(20);
    const updated = await g.control(id, { type: "control", fps: 100, speed: 1000 });
    expect([updated.fps, updated.speed]).toEqual([100, 1000]);
    const mark = truths.length;
    await waitFor(() => truths.length >= mark + 6);
    expect(decodeFrame(frames.at(-1)!.data).fps).toBe(100); // frames say their rate: media follows it
    const ts = truths.slice(mark + 2, mark + 6).map((m) => decodeTruth(m.data));
    for (let k = 1; k < ts.length; k++) {
      const gap = ts[k]!.captureTimeMs - ts[k - 1]!.captureTimeMs;
      expect(Math.abs(gap / 10 - Math.round(gap / 10))).toBeLessThan(1e-3);
      expect(Math.hypot(ts[k]!.vx, ts[k]!.vy)).toBeCloseTo(1000, 6);
    }
    const stopped = await g.control(id, { type: "stop" });
    expect(stopped.fps).toBe(100);
    expect(g.generator.sessionIds()).toEqual([]);
    expect(g.ended(id)).toMatchObject({ reason: "stopped by control request", workerClosed: true });
    const count = truths.length;
    await Bun.sleep(100);
    expect(truths.length).toBe(count);
    expect(await code(g.control(id, { type: "stop" }))).toBe("unavailable");
    expect(await g.gauge()).toBe(0);
  });

  test("a session without heartbeats ends; heartbeats keep another alive", async () => {
    const g = await setup({ heartbeatTimeoutMs: 300 });
    await g.start(ids[2]!, { fps: 5 });
    await g.start(ids[3]!, { fps: 5 });
    const beat = setInterval(() => g.bus.publish(subjects.heartbeat(ids[3]!), new Uint8Array(0)), 50);
    try {
      await waitFor(() => g.ended(ids[2]!) !== undefined);
      expect(g.ended(ids[2]!)).toMatchObject({ reason: "no heartbeat for 300 ms", workerClosed: true });
      await Bun.sleep(400);
      expect(g.generator.sessionIds()).toEqual([ids[3]!]);
    } finally {
      clearInterval(beat);
    }
    await waitFor(() => g.ended(ids[3]!) !== undefined);
  });

  test("`ended` from signaling ends the session (a malformed one too)", async () => {
    const g = await setup();
    await g.start(ids[4]!);
    await g.start(ids[5]!);
    g.bus.publish(subjects.ended(ids[4]!), encodeJson({ reason: "viewer left" }));
    g.bus.publish(subjects.ended(ids[5]!), new Uint8Array([1, 2, 3]));
    await waitFor(() => g.generator.sessionIds().length === 0);
    expect(g.ended(ids[4]!)).toMatchObject({ reason: "ended by signaling: viewer left", workerClosed: true });
    expect(g.ended(ids[5]!)).toMatchObject({ reason: "ended by signaling: ended" });
    expect(g.lines.some((l) => l.msg === "malformed ended message; ending the session anyway")).toBe(true);
  });

  test("a worker crash ends only its session, with a fatal event and no orphan worker", async () => {
    const g = await setup({ worker: "crashing-worker.ts" });
    const events = g.collect(subjects.events(ids[6]!));
    await g.start(ids[6]!);
    await waitFor(() => events.length === 1 && g.ended(ids[6]!) !== undefined);
    const event = parseSessionEvent(decodeJson(events[0]!.data));
    expect(event).toEqual({ source: "generator", fatal: true, message: expect.stringContaining("raster exploded") });
    expect(g.ended(ids[6]!)).toMatchObject({ workerClosed: true });
    expect(g.generator.sessionIds()).toEqual([]);
    expect(await g.gauge()).toBe(0);
  });

  test("a worker that ignores stop is terminated anyway", async () => {
    const g = await setup({ worker: "deaf-worker.ts" });
    await g.start(ids[7]!);
    await g.generator.stop();
    expect(g.ended(ids[7]!)).toMatchObject({ reason: "handed over to another replica", workerClosed: true });
  });

  test("refuses bad, duplicate, and too many sessions with clear codes; others are unaffected", async () => {
    const g = await setup({ maxSessions: 2, maxPayload: 1024 * 1024 });
    const truths = g.collect(subjects.truth(ids[8]!));
    await g.start(ids[8]!, { fps: 30 });
    expect(await code(g.start(ids[8]!))).toBe("bad_request");
    expect(await code(requestJson(g.bus, subjects.generatorStart, { sessionId: "bad id" }, parseSettings, 5000))).toBe("bad_request");
    expect(await code(g.start(ids[9]!, { fps: 500 }))).toBe("bad_request");
    await g.start(ids[9]!);
    expect(await code(g.start(ids[10]!))).toBe("unavailable");
    expect(await code(g.control(ids[8]!, { type: "warp" }))).toBe("bad_request");
    const before = truths.length;
    await waitFor(() => truths.length > before + 3);
    expect(g.generator.sessionIds().sort()).toEqual([ids[8]!, ids[9]!]);
  });

  test("stop() ends every session and refuses new ones", async () => {
    const g = await setup();
    for (const id of ids.slice(11, 14)) await g.start(id, { fps: 10 });
    expect(await g.gauge()).toBe(3);
    await g.generator.stop();
    expect(g.generator.sessionIds()).toEqual([]);
    for (const id of ids.slice(11, 14)) expect(g.ended(id)).toMatchObject({ reason: "handed over to another replica", workerClosed: true });
    expect(g.lines.find((l) => l.msg === "generator stopped")).toMatchObject({ sessions: 3, handedOver: 0 }); // no other replica here
    expect(await g.gauge()).toBe(0);
    expect(await code(g.start(ids[14]!))).toBe("unavailable");
    await g.generator.stop();
  });

  test("stop() hands every session over to another replica on the bus: its frames go on, numbered on, the ball where it would be", async () => {
    const a = await setup();
    const b = await startGenerator({ bus: a.bus, log: a.log, registry: createRegistry(), config: { heartbeatTimeoutMs: 60_000 } });
    started.push(b);
    // b joined after the sessions started: they are all a's (a replica answers alone until another subscribes)
    const truths = a.collect(subjects.truth(ids[15]!));
    await a.start(ids[15]!, { fps: 30, speed: 400 });
    expect(a.generator.sessionIds()).toContain(ids[15]!);
    await waitFor(() => truths.length >= 10);
    await a.generator.stop();
    expect(b.sessionIds()).toEqual([ids[15]!]);
    const before = truths.length;
    await waitFor(() => truths.length >= before + 5);
    const t = truths.map((m) => decodeTruth(m.data));
    const last = t[before - 1]!;
    const next = t[before]!;
    expect(next.frameId).toBe(last.frameId + 1);
    const expected = ballAt({ x: last.x, y: last.y, vx: last.vx, vy: last.vy, timeMs: last.captureTimeMs, width: 640, height: 480, radius: 24 }, next.captureTimeMs);
    expect(next.x).toBeCloseTo(expected.x, 6);
    expect(next.y).toBeCloseTo(expected.y, 6);
    expect(next.captureTimeMs - last.captureTimeMs).toBeLessThan(500); // the gap of a hand-over
    expect(a.lines.find((l) => l.msg === "generator stopped")).toMatchObject({ sessions: 1, handedOver: 1 });
  });

  test("refuses to start on a bus whose payload limit cannot carry a frame chunk", async () => {
    const { log } = collectingLogger();
    await expect(startGenerator({ bus: new MemoryBus(log, { maxPayload: 4000 }), log })).rejects.toThrow(/at most 4000 bytes a message; frames need 4096/);
  });
});
