/** The standalone generator (src/main.ts) as its own process against a real nats-server. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Bus, type BusMessage, connectNatsBus, decodeFrame, decodeTruth, requestJson } from "@ballstream/runtime";
import { parseSettings, subjects } from "@ballstream/protocol";
import { startNatsServer, type TestNatsServer } from "@ballstream/testing";
import { collectingLogger, waitFor } from "./helpers.ts";

const SID = "standaloneSession_0123";

describe("standalone generator over NATS", () => {
  let server: TestNatsServer;
  let bus: Bus;
  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectNatsBus({ url: server.url, name: "test", log: collectingLogger().log });
  });
  afterAll(async () => {
    await bus.drain();
    await server.stop();
  });

  test("an unknown FRAME_COMPRESSION exits 1 with a message naming it", async () => {
    const proc = Bun.spawn(["bun", join(import.meta.dir, "../src/main.ts")], {
      env: { ...process.env, NATS_URL: server.url, FRAME_COMPRESSION: "gzip", LOG_LEVEL: "info" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(exitCode).toBe(1);
    expect(out).toContain("FRAME_COMPRESSION must be one of none, zstd, patch, got gzip");
  });

  test("without NATS_URL it exits 1 with a message naming it", async () => {
    const proc = Bun.spawn(["bun", join(import.meta.dir, "../src/main.ts")], { env: { ...process.env, NATS_URL: "", LOG_LEVEL: "info" }, stdout: "pipe", stderr: "pipe" });
    const [out, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(exitCode).toBe(1);
    expect(out).toContain("NATS_URL is required");
  });

  test("serves a session: zstd-compressed frames (the NATS default) and truths arrive; SIGTERM ends the session and exits 0", async () => {
    const proc = Bun.spawn(["bun", join(import.meta.dir, "../src/main.ts")], {
      env: { ...process.env, NATS_URL: server.url, METRICS_PORT: "0", LOG_LEVEL: "info", LOG_FORMAT: "json" },
      stdout: "pipe",
      stderr: "inherit",
    });
    let out = "";
    const reader = proc.stdout.getReader();
    const reading = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) out += new TextDecoder().decode(r.value);
    })();
    try {
      await waitFor(() => out.includes("generator running"), 20_000, "generator to start");
      const frames: BusMessage[] = [];
      const truths: BusMessage[] = [];
      bus.subscribe(subjects.frames(SID), (m) => frames.push(m));
      bus.subscribe(subjects.truth(SID), (m) => truths.push(m));
      const settings = await requestJson(bus, subjects.generatorStart, { sessionId: SID, settings: { fps: 30 } }, parseSettings, 10_000);
      expect(settings.fps).toBe(30);
      await waitFor(() => frames.length >= 5 && truths.length >= 5, 20_000, "frames");
      expect(frames[0]!.data[5]).toBe(3); // pixel format 3: the flat scene's patch
      expect(frames[0]!.data.length).toBeLessThan(20_000);
      const f = decodeFrame(frames[0]!.data);
      const t = truths.map((m) => decodeTruth(m.data)).find((x) => x.frameId === f.frameId)!;
      expect([f.sessionId, f.width, f.height, f.pixels.length]).toEqual([SID, 640, 480, 460_800]);
      expect([t.x, t.y, t.captureTimeMs]).toEqual([f.x, f.y, f.captureTimeMs]);
      bus.publish(subjects.heartbeat(SID), new Uint8Array(0));
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    await reading;
    const msgs = out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(msgs.find((l) => l.msg === "session ended")).toMatchObject({ sessionId: SID, reason: "handed over to another replica", workerClosed: true });
    expect(msgs.some((l) => l.msg === "NATS connection closed")).toBe(true);
    expect(msgs.at(-1)!.msg).toBe("stopped");
  });
});
