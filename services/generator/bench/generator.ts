/**
 * Generator benchmark: `bun bench/generator.ts` prints, and `runGeneratorBench()` returns,
 * - raster throughput at 640×480 on one core: direct I420 raster alone, and a whole frame (raster + frame and
 *   truth encoding), against pureimage (RGBA canvas + RGBA→I420 conversion), the library the design named;
 * - pacing: lateness of frame delivery (subscriber receive time − scheduled capture time) with 8 sessions at
 *   60 fps through the real service (workers + in-process bus), p50/p95/p99/max, and skipped slots;
 * - cheap compression of a frame (deflate level 1, zstd level 1, and the frame codec's zstd format as shipped):
 *   bytes and time per frame, to weigh against the transport cost of raw frames on NATS (bench/nats-frames.ts);
 * - `bun bench/generator.ts scenes`: draw time per frame (p50/p95) of each scene at 640×480 and 1920×1080.
 */
import { DEFAULT_SETTINGS, SCENES, type Scene, nowMs, parseSettings, subjects } from "@ballstream/protocol";
import { FRAME_COMPRESSIONS, type FrameCompression, MemoryBus, createLogger, createRegistry, decodeFrame, decodeTruth, encodeFrame, requestJson } from "@ballstream/runtime";
import { summarize } from "@ballstream/testing";
import * as PImage from "pureimage";
import { startGenerator } from "../src/mod.ts";
import { createBallRaster } from "../src/raster.ts";
import { FrameRenderer } from "../src/renderer.ts";

/** What {@link runGeneratorBench} measured. Rates in frames/s on one core, times in ms. */
export interface GeneratorBenchResult {
  readonly rasterOnlyFps: number;
  readonly fullFrameFps: number;
  readonly pureimageFps: number;
  readonly pacing: PacingResult;
  readonly compression: ReadonlyArray<{ readonly codec: string; readonly bytes: number; readonly ratio: number; readonly compressMs: number; readonly decompressMs: number }>;
}

/** Pacing figures: lateness percentiles, skipped slots, and the whole process's CPU (all threads) in % of a core. */
export interface PacingResult {
  readonly sessions: number;
  readonly fps: number;
  readonly frames: number;
  readonly skipped: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuPercent: number;
}

const W = DEFAULT_SETTINGS.width;
const H = DEFAULT_SETTINGS.height;

/** Runs `fn(i)` repeatedly for about `ms` milliseconds; returns calls per second. */
function rate(ms: number, fn: (i: number) => unknown): number {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) fn(n++);
  return (n * 1000) / (performance.now() - start);
}

/** Positions along a bouncing path, so every frame moves the ball like a session does. */
function position(i: number): [number, number] {
  return [40 + ((i * 7.3) % (W - 80)), 40 + ((i * 3.1) % (H - 80))];
}

function pureimageFrameRate(ms: number): number {
  const img = PImage.make(W, H);
  const ctx = img.getContext("2d");
  const out = new Uint8Array((W * H * 3) / 2);
  const rgba = img.data;
  return rate(ms, (i) => {
    const [x, y] = position(i);
    ctx.fillStyle = DEFAULT_SETTINGS.backgroundColor;
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = DEFAULT_SETTINGS.ballColor;
    ctx.beginPath();
    ctx.arc(x, y, DEFAULT_SETTINGS.radius, 0, Math.PI * 2);
    ctx.closePath();
    ctx.fill();
    // The cheapest RGBA → I420: BT.601 luma per pixel, chroma from the top-left pixel of each 2×2 block.
    for (let p = 0, q = 0; p < W * H; p++, q += 4) out[p] = (16 + (65.481 * rgba[q]! + 128.553 * rgba[q + 1]! + 24.966 * rgba[q + 2]!) / 255) | 0;
    const cw = W / 2;
    for (let j = 0; j < H / 2; j++) {
      for (let k = 0; k < cw; k++) {
        const q = (2 * j * W + 2 * k) * 4;
        const [r, g, b] = [rgba[q]! / 255, rgba[q + 1]! / 255, rgba[q + 2]! / 255];
        out[W * H + j * cw + k] = (128 - 37.797 * r - 74.203 * g + 112 * b) | 0;
        out[W * H + (H / 2) * cw + j * cw + k] = (128 + 112 * r - 93.786 * g - 18.214 * b) | 0;
      }
    }
  });
}

async function pacing(sessions: number, fps: number, seconds: number, workerUrl?: URL, compression?: FrameCompression): Promise<PacingResult> {
  const log = createLogger("bench", { level: "warn", pretty: false });
  const bus = new MemoryBus(log);
  const generator = await startGenerator({ bus, log, registry: createRegistry(), config: { maxSessions: sessions, heartbeatTimeoutMs: 600_000, ...(compression ? { frameCompression: compression } : {}) }, ...(workerUrl ? { workerUrl } : {}) });
  const lateness: number[] = [];
  let skipped = 0;
  const warmupMs = 1000;
  const started = nowMs();
  for (let s = 0; s < sessions; s++) {
    const id = `benchSession_${String(s).padStart(9, "0")}`;
    let lastCaptureMs: number | undefined;
    bus.subscribe(subjects.truth(id), (m) => {
      const now = nowMs();
      const t = decodeTruth(m.data);
      if (now - started >= warmupMs) {
        lateness.push(now - t.captureTimeMs);
        if (lastCaptureMs !== undefined) skipped += Math.round(((t.captureTimeMs - lastCaptureMs) * fps) / 1000) - 1;
      }
      lastCaptureMs = t.captureTimeMs;
    });
    await requestJson(bus, subjects.generatorStart, { sessionId: id, settings: { fps } }, parseSettings, 10_000);
  }
  await Bun.sleep(Math.max(0, started + warmupMs - nowMs()));
  const cpu0 = process.cpuUsage();
  const wall0 = nowMs();
  await Bun.sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (nowMs() - wall0)) * 100;
  await generator.stop();
  const s = summarize(lateness);
  return { sessions, fps, frames: s.n, skipped, p50Ms: s.p50, p95Ms: s.p95, p99Ms: s.p99, maxMs: s.max, cpuPercent };
}

function compression(): GeneratorBenchResult["compression"] {
  const renderer = new FrameRenderer("benchSession_000000000", DEFAULT_SETTINGS, nowMs());
  const frame = new Uint8Array(renderer.render(nowMs() + 1234).frame);
  const decoded = decodeFrame(frame);
  type Bytes = Uint8Array<ArrayBuffer>;
  const codecs: Array<[string, (d: Bytes) => Uint8Array, (d: Bytes) => Uint8Array]> = [
    ["deflate-1", (d) => Bun.deflateSync(d, { level: 1 }), (d) => Bun.inflateSync(d)],
    ["zstd-1", (d) => Bun.zstdCompressSync(d, { level: 1 }), (d) => Bun.zstdDecompressSync(d)],
    // What ships: the frame codec's encodeFrame/decodeFrame (decompression capped at the I420 size).
    ["frame codec zstd", () => encodeFrame(decoded, "zstd"), (d) => decodeFrame(d).pixels],
    ["frame codec none", () => encodeFrame(decoded, "none"), (d) => decodeFrame(d).pixels],
  ];
  return codecs.map(([codec, compress, decompress]) => {
    const packed = new Uint8Array(compress(frame));
    const back = decompress(packed);
    if (!Buffer.from(back).equals(Buffer.from(back.length === frame.length ? frame : decoded.pixels))) throw new Error(`${codec} did not round-trip`);
    return {
      codec,
      bytes: packed.length,
      ratio: frame.length / packed.length,
      compressMs: 1000 / rate(1000, () => compress(frame)),
      decompressMs: 1000 / rate(1000, () => decompress(packed)),
    };
  });
}

/** Runs every measurement (about 15 s) and returns the figures. */
export async function runGeneratorBench(options: { pacingSeconds?: number } = {}): Promise<GeneratorBenchResult> {
  const raster = createBallRaster(W, H, DEFAULT_SETTINGS.ballColor, DEFAULT_SETTINGS.backgroundColor);
  const rasterOnlyFps = rate(2000, (i) => raster.draw(...position(i), DEFAULT_SETTINGS.radius));
  const renderer = new FrameRenderer("benchSession_000000000", DEFAULT_SETTINGS, nowMs());
  const t0 = nowMs();
  const fullFrameFps = rate(2000, (i) => renderer.render(t0 + i * 16.7));
  const pureimageFps = pureimageFrameRate(2000);
  return { rasterOnlyFps, fullFrameFps, pureimageFps, pacing: await pacing(8, 60, options.pacingSeconds ?? 5), compression: compression() };
}

/** Draw time per frame of each scene at 640×480 and 1920×1080 (`frames` draws each, after 50 to warm up), ms. */
function sceneDrawTimes(frames = 600): Array<{ scene: Scene; width: number; height: number; p50Ms: number; p95Ms: number }> {
  return [[640, 480], [1920, 1080]].flatMap(([width, height]) =>
    SCENES.map((scene) => {
      const raster = createBallRaster(width!, height!, DEFAULT_SETTINGS.ballColor, DEFAULT_SETTINGS.backgroundColor, scene);
      const times: number[] = [];
      for (let i = -50; i < frames; i++) {
        const t = performance.now();
        raster.draw(...position(i + 50), DEFAULT_SETTINGS.radius, i * 16.7);
        if (i >= 0) times.push(performance.now() - t);
      }
      const s = summarize(times);
      return { scene, width: width!, height: height!, p50Ms: s.p50, p95Ms: s.p95 };
    }),
  );
}

function formatPacing(p: PacingResult): string {
  return `pacing ${p.sessions} sessions × ${p.fps} fps: ${p.frames} frames, ${p.skipped} skipped, lateness p50 ${p.p50Ms.toFixed(2)} ms, p95 ${p.p95Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms (target ≤ 2), max ${p.maxMs.toFixed(2)} ms; process CPU ${p.cpuPercent.toFixed(1)} % of a core`;
}

function printCompression(rows: GeneratorBenchResult["compression"]): void {
  for (const c of rows) {
    console.log(`compression ${c.codec}: ${c.bytes} bytes (×${c.ratio.toFixed(0)}), compress ${c.compressMs.toFixed(3)} ms, decompress ${c.decompressMs.toFixed(3)} ms per frame`);
  }
}

if (import.meta.main) {
  if (process.argv[2] === "scenes") {
    for (const r of sceneDrawTimes()) console.log(`draw ${r.scene} ${r.width}x${r.height}: p50 ${r.p50Ms.toFixed(3)} ms, p95 ${r.p95Ms.toFixed(3)} ms per frame`);
  } else if (process.argv[2] === "compression") {
    printCompression(compression());
  } else if (process.argv[2] === "pacing") {
    // `bun bench/generator.ts pacing [sessions] [fps] [seconds] [worker.ts|-] [none|zstd|patch]`: the pacing
    // measurement alone, optionally with another session worker script (to compare a pacing variant against the
    // current one; `-` for the shipped one) and another frame compression than the in-process default.
    const [sessions, fps, seconds] = [3, 4, 5].map((i, k) => Number(process.argv[i] ?? [8, 60, 5][k]));
    const workerArg = process.argv[6] === "-" ? undefined : process.argv[6];
    const worker = workerArg ? new URL(Bun.pathToFileURL(workerArg).href) : undefined;
    const compression = process.argv[7] as FrameCompression | undefined;
    if (compression !== undefined && !FRAME_COMPRESSIONS.includes(compression)) throw new Error(`compression must be one of ${FRAME_COMPRESSIONS.join(", ")}`);
    const label = [workerArg, compression].filter((s) => s !== undefined).join(", ");
    console.log(`${label ? `[${label}] ` : ""}${formatPacing(await pacing(sessions!, fps!, seconds!, worker, compression))}`);
  } else {
    const r = await runGeneratorBench();
    const f = (n: number) => n.toFixed(n < 10 ? 2 : 0);
    console.log(`raster 640x480, one core: direct I420 raster ${f(r.rasterOnlyFps)} frames/s; raster + encode ${f(r.fullFrameFps)} frames/s (target ≥ 1000); pureimage + RGBA→I420 ${f(r.pureimageFps)} frames/s`);
    console.log(formatPacing(r.pacing));
    printCompression(r.compression);
  }
}
