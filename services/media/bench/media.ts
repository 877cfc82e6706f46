/**
 * Media benchmark: `bun bench/media.ts` prints, and `runMediaBench()` returns,
 * - encoder latency: raw 640×480 frame written → access unit complete, p50/p95 over paced frames, through an
 *   ffmpeg process and through libx264 on an encoder thread (the default where it loads), one after the other;
 * - capture → presentation latency p50/p95 at 30 and 60 fps in headless Chromium: the generator's capture time of
 *   each frame (named by its RTP timestamp) against rVFC `presentationTime` + `performance.timeOrigin` (same
 *   machine clock), plus delivery (frames decoded / generated) and frame-exact detection error;
 * - CPU per session in % of one core: this Bun process (generator + media + harness, the encoder threads included)
 *   and the session's ffmpeg, if it has one.
 */
import { DEFAULT_SETTINGS, nowMs } from "@ballstream/protocol";
import { MemoryBus, createLogger, createRegistry, i420ByteLength } from "@ballstream/runtime";
import { startGenerator } from "@ballstream/generator";
import { CpuWindow, clockTicksPerSecond, ffmpegChildren, summarize, launchChromium } from "@ballstream/testing";
import { type EncodedFrame, type EncoderBackend, DEFAULT_ENCODER_OPTIONS, SessionEncoder } from "../src/encoder.ts";
import { FfmpegBackend } from "../src/ffmpeg-encoder.ts";
import { resolveFfmpeg } from "../src/ffmpeg-path.ts";
import { X264Threads } from "../src/x264-threads.ts";
import { startMedia } from "../src/mod.ts";
import { startHarness } from "../test/harness.ts";
import type { PageStats, Receiver } from "../test/page/receiver.ts";

/** Percentiles of a sample in ms. */
export interface Percentiles {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
}

/** One streaming run in Chromium. */
export interface StreamRun {
  readonly fps: number;
  readonly captureToPresentation: Percentiles;
  readonly framesGenerated: number;
  readonly framesDecoded: number;
  readonly packetsLost: number;
  readonly maxFrameErrorPx: number;
  /** % of one core over the window. */
  readonly cpuBunPercent: number;
  readonly cpuFfmpegPercent: number;
}

/** Everything {@link runMediaBench} measured. */
export interface MediaBenchResult {
  readonly ffmpeg: string;
  readonly encode: Percentiles;
  /** The same through libx264 on an encoder thread. */
  readonly encodeX264: Percentiles;
  readonly runs: readonly StreamRun[];
}

function percentiles(values: number[]): Percentiles {
  const { n, p50, p95 } = summarize(values);
  return { n, p50, p95 };
}

/** Encoder latency alone: `frames` moving-ball frames at `fps`, one at a time, as the service feeds them. */
async function measureEncoder(backend: EncoderBackend, frames: number, fps: number): Promise<Percentiles> {
  const { width: W, height: H } = DEFAULT_SETTINGS;
  const out: EncodedFrame[] = [];
  const encoder = new SessionEncoder({ ...DEFAULT_ENCODER_OPTIONS, backend }, createLogger("bench", { level: "silent" }), {
    onFrame: (f) => out.push(f),
    onRestart: () => undefined,
    onFatal: (m) => console.error(m),
  });
  const pixels = new Uint8Array(i420ByteLength(W, H));
  for (let i = 0; i < frames; i++) {
    pixels.fill(16, 0, W * H);
    const x = (i * 7) % (W - 48);
    for (let row = 200; row < 248; row++) pixels.fill(200, row * W + x, row * W + x + 48);
    encoder.encode({ sessionId: "b", frameId: i, captureTimeMs: nowMs(), x, y: 224, vx: 0, vy: 0, width: W, height: H, radius: 24, fps, pixelFormat: "I420", pixels });
    await Bun.sleep(1000 / fps);
  }
  await encoder.stop();
  return percentiles(out.slice(1).map((f) => f.encodeMs)); // the first frame includes x264's start-up
}

/** One Chromium session at `fps`: `warmupMs` to settle, then `windowMs` measured. */
async function measureStream(fps: number, warmupMs: number, windowMs: number): Promise<StreamRun> {
  const log = createLogger("media-bench", { level: "warn" });
  const bus = new MemoryBus(log);
  const registry = createRegistry();
  const generator = await startGenerator({ bus, log, registry });
  const media = await startMedia({ bus, log, registry, config: { iceInterfaceAddress: "127.0.0.1", iceAdvertiseAddresses: ["127.0.0.1"] } });
  const harness = await startHarness(bus, { fps });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(harness.url);
    await page.waitForFunction(() => (window as { receiver?: Receiver }).receiver?.presentations.length, undefined, { timeout: 30_000 });
    await Bun.sleep(warmupMs);
    const stats = () => page.evaluate(() => (window as unknown as { receiver: Receiver }).receiver.stats()) as Promise<PageStats>;
    const counts = () => page.evaluate(() => [(window as unknown as { receiver: Receiver }).receiver.presentations.length, (window as unknown as { receiver: Receiver }).receiver.detections.length]);
    const [p0, d0] = await counts();
    const before = await stats();
    const truths0 = harness.truths.size;
    // Chromium is a child of this process too, so the session's encoders are measured by their own pids.
    const ffmpegCpu = new CpuWindow(ffmpegChildren(process.pid).map((pid) => [`ffmpeg ${pid}`, pid] as const), clockTicksPerSecond());
    const cpu0 = { bun: process.cpuUsage(), t: performance.now() };
    ffmpegCpu.start();
    await Bun.sleep(windowMs);
    const elapsedS = (performance.now() - cpu0.t) / 1000;
    const bunCpu = process.cpuUsage(cpu0.bun);
    const ffmpegPct = ffmpegCpu.stop().reduce((sum, t) => sum + t.selfPct, 0);
    const after = await stats();
    const framesGenerated = harness.truths.size - truths0;
    const r = await page.evaluate(([p, d]) => {
      const rec = (window as unknown as { receiver: Receiver }).receiver;
      return { presentations: rec.presentations.slice(p), detections: rec.detections.slice(d) };
    }, [p0!, d0!] as const);
    const latency = r.presentations.flatMap((p) => {
      const t = harness.truths.get(p.rtp);
      return t === undefined ? [] : [p.presentedAtMs - t.captureTimeMs];
    });
    const errors = r.detections.flatMap((d) => {
      const t = harness.truths.get(d.rtp);
      return t === undefined || !d.found ? [] : [Math.hypot(d.x - t.x, d.y - t.y)];
    });
    return {
      fps,
      captureToPresentation: percentiles(latency),
      framesGenerated,
      framesDecoded: after.framesDecoded - before.framesDecoded,
      packetsLost: after.packetsLost,
      maxFrameErrorPx: Math.max(...errors),
      cpuBunPercent: (100 * (bunCpu.user + bunCpu.system)) / 1e6 / elapsedS,
      cpuFfmpegPercent: ffmpegPct,
    };
  } finally {
    await browser.close();
    await harness.stop();
    await media.stop();
    await generator.stop();
    await bus.drain();
  }
}

/** Runs the whole media benchmark (about a minute). */
export async function runMediaBench(opts: { warmupMs?: number; windowMs?: number } = {}): Promise<MediaBenchResult> {
  const ffmpeg = resolveFfmpeg();
  const encode = await measureEncoder(new FfmpegBackend(ffmpeg.path), 300, 60);
  const threads = new X264Threads(1, createLogger("bench", { level: "silent" }));
  const encodeX264 = await measureEncoder(threads, 300, 60);
  await threads.close();
  const runs: StreamRun[] = [];
  for (const fps of [30, 60]) runs.push(await measureStream(fps, opts.warmupMs ?? 3000, opts.windowMs ?? 15_000));
  return { ffmpeg: `${ffmpeg.source} (${ffmpeg.path})`, encode, encodeX264, runs };
}

if (import.meta.main) {
  const r = await runMediaBench();
  const f = (v: number) => v.toFixed(1);
  console.log(`ffmpeg: ${r.ffmpeg}`);
  console.log(`encoder latency 640x480 (write → access unit), ffmpeg: p50 ${r.encode.p50.toFixed(2)} ms, p95 ${r.encode.p95.toFixed(2)} ms (n=${r.encode.n})`);
  console.log(`encoder latency 640x480 (write → access unit), x264 on a thread: p50 ${r.encodeX264.p50.toFixed(2)} ms, p95 ${r.encodeX264.p95.toFixed(2)} ms (n=${r.encodeX264.n})`);
  for (const s of r.runs) {
    console.log(
      `${s.fps} fps: capture → presentation p50 ${f(s.captureToPresentation.p50)} ms, p95 ${f(s.captureToPresentation.p95)} ms (n=${s.captureToPresentation.n}); ` +
        `decoded ${s.framesDecoded}/${s.framesGenerated}, lost ${s.packetsLost}, max frame error ${s.maxFrameErrorPx.toFixed(3)} px; ` +
        `CPU % of a core: Bun (generator+media) ${f(s.cpuBunPercent)}, ffmpeg ${f(s.cpuFfmpegPercent)}`,
    );
  }
}
