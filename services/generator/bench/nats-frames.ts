/**
 * Frames over real NATS, raw against zstd: `bun bench/nats-frames.ts [sessions] [fps] [seconds] [rounds]`
 * (default 16 × 30 fps, 10 s, 2 rounds alternating the two) prints, per run,
 * - CPU in % of one core of the three processes: nats-server (from /proc), the publisher (this process; it
 *   encodes, with compression) and a subscriber process (it decodes, with decompression, as media does);
 * - per frame: bytes on the wire, encode and decode time, and latency from the start of encoding to the end of
 *   decoding at the subscriber (p50/p99).
 * The pixels are drawn beforehand (a ring of ball positions), so drawing costs nothing in either run.
 */
import { DEFAULT_SETTINGS, nowMs, subjects } from "@ballstream/protocol";
import { type FrameCompression, type FrameTruth, connectNatsBus, createLogger, decodeFrame, encodeFrame } from "@ballstream/runtime";
import { freePort, natsServerBinary, CpuWindow, clockTicksPerSecond, summarize } from "@ballstream/testing";
import { createBallRaster } from "../src/raster.ts";

/** Figures of one run. CPU in % of one core; times in ms per frame. */
export interface NatsFramesResult {
  readonly compression: FrameCompression;
  readonly frames: number;
  readonly bytesPerFrame: number;
  readonly natsServerCpu: number;
  readonly publisherCpu: number;
  readonly subscriberCpu: number;
  readonly received: number;
  readonly encodeMs: number;
  readonly decodeMs: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

const W = DEFAULT_SETTINGS.width;
const H = DEFAULT_SETTINGS.height;

/** Pixel buffers of the ball at `n` positions along its path. */
function drawRing(n: number): Uint8Array[] {
  const raster = createBallRaster(W, H, DEFAULT_SETTINGS.ballColor, DEFAULT_SETTINGS.backgroundColor);
  return Array.from({ length: n }, (_, i) => raster.draw(40 + ((i * 7.3) % (W - 80)), 40 + ((i * 3.1) % (H - 80)), DEFAULT_SETTINGS.radius).slice());
}

/** What the subscriber process reports for the measured window. */
interface SubscriberReport {
  readonly cpu: number;
  readonly frames: number;
  readonly decodeMs: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

/** Measured window: from `startMs + 1 s` (warm-up) for `seconds`. */
function windowOf(startMs: number, seconds: number): [number, number] {
  return [startMs + 1000, startMs + 1000 + seconds * 1000];
}

/** The subscriber process: decodes every frame (decompressing as media would) and reports on stdout. */
async function subscribe(url: string, sessions: number, startMs: number, seconds: number): Promise<void> {
  const bus = await connectNatsBus({ url, name: "bench-subscriber", log: createLogger("bench", { level: "warn", pretty: false }) });
  const [from, to] = windowOf(startMs, seconds);
  let decodeMs = 0;
  const latency: number[] = [];
  for (let s = 0; s < sessions; s++) {
    bus.subscribe(subjects.frames(sessionIdOf(s)), (m) => {
      const t0 = performance.now();
      const f = decodeFrame(m.data);
      const done = nowMs();
      if (f.captureTimeMs < from || f.captureTimeMs >= to) return;
      decodeMs += performance.now() - t0;
      latency.push(done - f.captureTimeMs);
    });
  }
  console.log("ready");
  await Bun.sleep(from - nowMs());
  const cpu0 = process.cpuUsage();
  await Bun.sleep(to - nowMs());
  const cpu = process.cpuUsage(cpu0);
  const wallMs = nowMs() - from;
  await Bun.sleep(500); // the last frames of the window are still arriving
  await bus.drain();
  const s = summarize(latency);
  const report: SubscriberReport = {
    cpu: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    frames: s.n,
    decodeMs: decodeMs / Math.max(1, s.n),
    latencyP50Ms: s.p50,
    latencyP99Ms: s.p99,
  };
  console.log(JSON.stringify(report));
}

function sessionIdOf(s: number): string {
  return `natsBench_${String(s).padStart(12, "0")}`;
}

/** One run: `sessions` streams at `fps` through a fresh nats-server to a subscriber process, for `seconds`. */
export async function runNatsFrames(compression: FrameCompression, sessions: number, fps: number, seconds: number): Promise<NatsFramesResult> {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const server = Bun.spawn([natsServerBinary(), "-a", "127.0.0.1", "-p", String(port)], { stdout: "ignore", stderr: "ignore" });
  let child: ReturnType<typeof Bun.spawn> | undefined;
  try {
    await Bun.sleep(300);
    const startMs = nowMs() + 2000;
    const [from, to] = windowOf(startMs, seconds);
    const sub = Bun.spawn(["bun", import.meta.path, "subscribe", url, String(sessions), String(startMs), String(seconds)], { stdout: "pipe", stderr: "inherit" });
    child = sub;
    const output = new Response(sub.stdout).text();
    const publisher = await connectNatsBus({ url, name: "bench-publisher", log: createLogger("bench", { level: "warn", pretty: false }) });
    const ring = drawRing(60);
    const ids = Array.from({ length: sessions }, (_, s) => sessionIdOf(s));
    let frames = 0;
    let bytes = 0;
    let encodeMs = 0;
    let cpu0 = process.cpuUsage();
    const serverCpu = new CpuWindow([["nats-server", server.pid]], clockTicksPerSecond());
    let measuring = false;
    await Bun.sleep(startMs - nowMs());
    // Absolute schedule: session s sends frame k at start + (k + s / sessions) / fps; a late sender skips ahead.
    const intervalMs = 1000 / fps;
    for (let k = 0; nowMs() < to; ) {
      if (!measuring && nowMs() >= from) {
        measuring = true;
        cpu0 = process.cpuUsage();
        serverCpu.start();
      }
      const dueMs = startMs + (Math.floor(k / sessions) + (k % sessions) / sessions) * intervalMs;
      if (dueMs > nowMs()) await Bun.sleep(dueMs - nowMs());
      else if (nowMs() - dueMs > intervalMs) {
        k = Math.ceil(((nowMs() - startMs) / intervalMs) * sessions);
        continue;
      }
      const id = ids[k % sessions]!;
      const slot = Math.floor(k / sessions);
      const truth: FrameTruth = { sessionId: id, frameId: slot, captureTimeMs: nowMs(), x: 100, y: 100, vx: 0, vy: 0, width: W, height: H, radius: DEFAULT_SETTINGS.radius };
      const t0 = performance.now();
      const data = encodeFrame({ ...truth, fps, pixelFormat: "I420", pixels: ring[slot % ring.length]! }, compression);
      if (measuring) {
        encodeMs += performance.now() - t0;
        frames++;
        bytes += data.length;
      }
      publisher.publish(subjects.frames(id), data);
      k++;
    }
    const wallMs = nowMs() - from;
    const cpu = process.cpuUsage(cpu0);
    const natsServerCpu = serverCpu.stop()[0]?.selfPct ?? Number.NaN;
    await publisher.drain();
    const report = JSON.parse((await output).trim().split("\n").at(-1)!) as SubscriberReport;
    return {
      compression,
      frames,
      bytesPerFrame: bytes / frames,
      natsServerCpu,
      publisherCpu: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      subscriberCpu: report.cpu,
      received: report.frames,
      encodeMs: encodeMs / frames,
      decodeMs: report.decodeMs,
      latencyP50Ms: report.latencyP50Ms,
      latencyP99Ms: report.latencyP99Ms,
    };
  } finally {
    child?.kill("SIGTERM");
    server.kill("SIGTERM");
    await server.exited;
  }
}

if (import.meta.main) {
  if (process.argv[2] === "subscribe") {
    const [url, sessions, startMs, seconds] = process.argv.slice(3);
    await subscribe(url!, Number(sessions), Number(startMs), Number(seconds));
  } else {
    const [sessions, fps, seconds, rounds] = [2, 3, 4, 5].map((i, k) => Number(process.argv[i] ?? [16, 30, 10, 2][k]));
    for (let round = 0; round < rounds!; round++) {
      for (const compression of ["none", "zstd"] as const) {
        const r = await runNatsFrames(compression, sessions!, fps!, seconds!);
        const total = r.natsServerCpu + r.publisherCpu + r.subscriberCpu;
        // CPU per frame sent: comparable even when a loaded machine makes the raw run fall behind and skip.
        const cpuPerFrameMs = (total / 100) * ((seconds! * 1000) / r.frames);
        console.log(
          `${sessions}×${fps} fps ${r.compression.padEnd(4)}: sent ${r.frames}, received ${r.received}, ${r.bytesPerFrame.toFixed(0)} B/frame; ` +
            `CPU % of a core: nats-server ${r.natsServerCpu.toFixed(1)}, publisher ${r.publisherCpu.toFixed(1)}, subscriber ${r.subscriberCpu.toFixed(1)}, total ${total.toFixed(1)} (${cpuPerFrameMs.toFixed(2)} ms CPU per frame); ` +
            `encode ${r.encodeMs.toFixed(3)} ms, decode ${r.decodeMs.toFixed(3)} ms per frame; encode start → decoded p50 ${r.latencyP50Ms.toFixed(2)} ms, p99 ${r.latencyP99Ms.toFixed(2)} ms`,
        );
      }
    }
  }
}
