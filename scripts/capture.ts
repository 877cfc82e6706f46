/**
 * `bun run capture`: records a real run into capture.mp4 at the repository root. Starts ballstream in one process
 * (the default `bun start` path, on free ports), opens the page in headless Chromium, records the tab with the
 * DevTools screencast (`Page.startScreencast` JPEG frames, repeated/paced to a constant 25 fps in real time),
 * encodes H.264 (yuv420p, +faststart) with Debian's ffmpeg, and checks the file with ffprobe. About 20 s of
 * streaming, with a live speed change (320 → 480 px/s) half way so the figures visibly move. Recording costs the
 * browser CPU (JPEG per compositor frame), so the latency the video shows is higher than `bun run bench` measures.
 * Options: `--seconds=N` (default 20), `--out=path`.
 */
import { statSync } from "node:fs";
import { join, relative } from "node:path";
import { launchChromium, startOneProcess } from "@ballstream/testing";
import { waitForHook } from "@ballstream/web/hook-reader";
import type { BallstreamHook } from "@ballstream/web/hook";
import { CAPTURE_LIMITS, captureProblems, ffmpegArgs, framesDue, type ProbeInfo } from "./lib/capture.ts";

const ROOT = join(import.meta.dir, "..");
const args = process.argv.slice(2);
const seconds = Number(args.find((a) => a.startsWith("--seconds="))?.slice(10) ?? 20);
const outFile = join(ROOT, args.find((a) => a.startsWith("--out="))?.slice(6) ?? "capture.mp4");
const OUTPUT_FPS = 25;
const VIEWPORT = { width: 1280, height: 800 };

const build = Bun.spawnSync(["bun", "run", "build"], { cwd: join(ROOT, "web"), stdout: "pipe", stderr: "pipe" });
if (build.exitCode !== 0) {
  console.error(`web build failed:\n${build.stderr.toString()}`);
  process.exit(1);
}

const system = await startOneProcess();
const browser = await launchChromium();
let failed = false;
try {
  const page = await (await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 })).newPage();
  await page.goto(`${system.url}?fps=30`);
  await waitForHook(page, "streaming", (h) => h.status === "streaming" && h.reportsReceived > 10, 30_000);

  const ffmpeg = Bun.spawn(ffmpegArgs(outFile, OUTPUT_FPS), { stdin: "pipe", stdout: "inherit", stderr: "inherit" });
  const cdp = await page.context().newCDPSession(page);
  let latest: Uint8Array | null = null;
  cdp.on("Page.screencastFrame", (f: { data: string; sessionId: number }) => {
    latest = Buffer.from(f.data, "base64");
    void cdp.send("Page.screencastFrameAck", { sessionId: f.sessionId }).catch(() => undefined);
  });
  await cdp.send("Page.startScreencast", { format: "jpeg", quality: 70, maxWidth: VIEWPORT.width, maxHeight: VIEWPORT.height, everyNthFrame: 2 });

  const firstBy = Date.now() + 5000;
  while (!latest && Date.now() < firstBy) await Bun.sleep(20);
  if (!latest) throw new Error("the screencast sent no frame within 5 s");

  const start = performance.now();
  const total = Math.round(seconds * OUTPUT_FPS);
  let written = 0;
  let changed = false;
  while (written < total) {
    const elapsed = performance.now() - start;
    for (let n = Math.min(framesDue(elapsed, OUTPUT_FPS, written), total - written); n > 0; n--, written++) ffmpeg.stdin.write(latest);
    await ffmpeg.stdin.flush();
    if (!changed && elapsed > (seconds * 1000) / 2) {
      changed = true;
      await page.evaluate(() => (globalThis as unknown as { ballstream: BallstreamHook }).ballstream.control({ speed: 480 }));
    }
    await Bun.sleep(1000 / OUTPUT_FPS / 2);
  }
  await cdp.send("Page.stopScreencast");
  const hook = await page.evaluate(() => {
    const h = (globalThis as unknown as { ballstream: BallstreamHook }).ballstream;
    const g2g = h.samples().map((x) => x.glassToGlassMs).filter((x): x is number => x !== null).sort((a, b) => a - b);
    return { status: h.status, reports: h.reportsReceived, last: h.lastReport, g2gMedian: g2g[Math.floor(g2g.length / 2)] ?? Number.NaN };
  });
  await ffmpeg.stdin.end();
  if ((await ffmpeg.exited) !== 0) throw new Error(`ffmpeg exited with ${ffmpeg.exitCode}`);
  console.log(`page: ${hook.status}, ${hook.reports} error reports; last real-time error ${hook.last?.realtimeErrorPx.toFixed(1)} px, frame error ${hook.last?.frameErrorPx.toFixed(2)} px; glass-to-glass median while recording ${hook.g2gMedian.toFixed(1)} ms`);

  const probe = Bun.spawnSync(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", outFile]);
  const info = JSON.parse(probe.stdout.toString()) as ProbeInfo;
  const video = info.streams?.find((s) => s.codec_type === "video");
  const problems = captureProblems(info);
  console.log(
    `${relative(ROOT, outFile)}: ${video?.codec_name} ${video?.pix_fmt} ${video?.width}x${video?.height}, ${Number(info.format?.duration).toFixed(1)} s, ` +
      `${(statSync(outFile).size / 1024 / 1024).toFixed(2)} MiB (limit ${CAPTURE_LIMITS.maxBytes / 1024 / 1024} MiB), ${written} frames written`,
  );
  if (problems.length > 0) {
    failed = true;
    console.error(`capture is not acceptable: ${problems.join("; ")}`);
  }
} catch (err) {
  failed = true;
  console.error(`capture failed: ${(err as Error).message}`);
} finally {
  await browser.close();
  await system.cleanup();
}
process.exit(failed ? 1 : 0);
