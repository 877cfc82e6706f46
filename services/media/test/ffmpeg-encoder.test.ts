/** The ffmpeg backend: its command line, the real ffmpeg's x264 settings and memory, and processes that die or hang. */
import { afterEach, describe, expect, test } from "bun:test";
import { type Frame, createLogger, i420ByteLength } from "@ballstream/runtime";
import { nowMs } from "@ballstream/protocol";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_ENCODER_OPTIONS, type EncodedFrame, SessionEncoder } from "../src/encoder.ts";
import { FfmpegBackend, encoderArgs } from "../src/ffmpeg-encoder.ts";
import { resolveFfmpeg } from "../src/ffmpeg-path.ts";
import { H, W, frame, until } from "./encoder-helpers.ts";

const X264 = { keyframeIntervalS: 2, bitrateKbps: 2000, intraRefresh: false };
const log = createLogger("ffmpeg-encoder-test", { level: "silent" });

const encoders: SessionEncoder[] = [];
function encoder(ffmpegPath = resolveFfmpeg().path, options: Partial<typeof DEFAULT_ENCODER_OPTIONS> = {}) {
  const out: EncodedFrame[] = [];
  const fatal: string[] = [];
  const restarts: string[] = [];
  const events = { onFrame: (f: EncodedFrame) => out.push(f), onRestart: (r: string) => restarts.push(r), onFatal: (m: string) => fatal.push(m) };
  const e = new SessionEncoder({ ...DEFAULT_ENCODER_OPTIONS, backend: new FfmpegBackend(ffmpegPath), ...options }, log, events);
  encoders.push(e);
  return { e, out, fatal, restarts };
}

function fakeFfmpeg(script: string): string {
  const fake = join(mkdtempSync(join(tmpdir(), "media-enc-")), "ffmpeg");
  writeFileSync(fake, `#!/bin/sh\n${script}\n`);
  chmodSync(fake, 0o755);
  return fake;
}

afterEach(async () => {
  await Promise.all(encoders.splice(0).map((e) => e.stop()));
});

describe("encoderArgs", () => {
  test("low-latency x264: ultrafast, zerolatency, baseline, no B-frames, one thread, headers on keyframes, unbuffered Annex-B", () => {
    const args = encoderArgs({ width: 640, height: 480, fps: 60 }, X264).join(" ");
    for (const part of ["-s 640x480", "-r 60", "-preset ultrafast", "-tune zerolatency", "-profile:v baseline", "-bf 0", "-threads 1", "-trellis 0", "-g 120", "repeat-headers=1", "-flush_packets 1", "-avioflags direct", "-f h264 pipe:1"]) {
      expect(args).toContain(part);
    }
  });

  test("the GOP is keyframeIntervalS seconds at the format's fps; the CRF rises 5 per fps doubling above 30", () => {
    const at = (fps: number) => encoderArgs({ width: 640, height: 480, fps }, X264).join(" ");
    expect([at(1), at(30), at(120)].map((a) => a.match(/-g (\d+)/)![1])).toEqual(["2", "60", "240"]);
    expect(at(60)).toContain("-crf 28");
  });

  test("the target bitrate is x264's maxrate with a VBV of one frame; intra refresh is an x264 parameter", () => {
    const args = encoderArgs({ width: 640, height: 480, fps: 30 }, X264).join(" ");
    expect(args).toContain("-maxrate 2000k -bufsize 67k");
    expect(args).toContain("-x264-params repeat-headers=1 ");
    expect(encoderArgs({ width: 640, height: 480, fps: 30 }, { ...X264, intraRefresh: true }).join(" ")).toContain("repeat-headers=1:intra-refresh=1");
  });

  // x264 writes its own settings into an SEI of the first frame; the bundled ffmpeg 4.1 left trellis=1 under
  // ultrafast without "-trellis 0" (CPU, docs/media.md "Encoder CPU"), Debian's 5.1 did not.
  test("the real ffmpeg runs x264 with ultrafast's settings, trellis off", async () => {
    const args = encoderArgs({ width: W, height: H, fps: 30 }, X264);
    const proc = Bun.spawn([resolveFfmpeg().path, ...args], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    proc.stdin.write(frame().pixels);
    await proc.stdin.end();
    const sei = new TextDecoder("latin1").decode(await new Response(proc.stdout).arrayBuffer()).match(/x264 - core .*? options: ([^\0]*)/)?.[1];
    await proc.exited;
    expect(sei?.split(" ")).toEqual(expect.arrayContaining(["trellis=0", "me=dia", "subme=0", "cabac=0", "bframes=0", "threads=1", "rc=crf"]));
  });

  test("ffmpeg is told not to probe the frame rate, before the input", () => {
    const args = encoderArgs({ width: 640, height: 480, fps: 120 }, X264);
    expect(args.join(" ")).toContain("-fpsprobesize 0");
    expect(args.indexOf("-fpsprobesize")).toBeLessThan(args.indexOf("-i"));
  });
});

describe("FfmpegBackend", () => {
  test("it restarts ffmpeg for every keyframe on demand and every bitrate change: it is not in place", () => {
    expect(new FfmpegBackend("/usr/bin/ffmpeg")).toMatchObject({ name: "ffmpeg", inPlace: false, ffmpegPath: "/usr/bin/ffmpeg" });
  });

  // Without FFMPEG_MALLOC_ENV the bundled ffmpeg page-faulted ~57 times a 640×480 frame (its input packet's memory
  // mmapped or trimmed away and faulted in again each frame); with it, a handful.
  test("ffmpeg keeps its frame memory: few page faults per frame once running", async () => {
    const { e, out } = encoder();
    const picture = (k: number): Frame => {
      const pixels = new Uint8Array(i420ByteLength(640, 480)).fill(60);
      pixels.fill(200, 640 * (100 + k), 640 * (140 + k));
      return { sessionId: "s", frameId: k, captureTimeMs: nowMs(), x: 0, y: 0, vx: 0, vy: 0, width: 640, height: 480, radius: 5, fps: 30, pixelFormat: "I420", pixels };
    };
    const faults = () => Number(readFileSync(`/proc/${e.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[7]);
    let before = 0;
    for (let k = 0; k < 40; k++) {
      if (k === 10) before = faults();
      expect(e.encode(picture(k))).toBe(true);
      await until(() => out.length === k + 1);
    }
    expect((faults() - before) / 30).toBeLessThan(10);
  });

  test("an encoder that keeps dying is restarted, then reported fatal; stop() leaves no timer or process", async () => {
    const { e, fatal } = encoder(fakeFfmpeg("echo 'fake encoder failure' >&2\nexit 3"), { maxFailures: 3 });
    e.encode(frame());
    await until(() => fatal.length === 1);
    expect(fatal[0]).toContain("fake encoder failure");
    expect(e.stats.restarts).toBe(3);
    expect(e.encode(frame())).toBe(false);
  });

  test("an encoder that keeps stalling is replaced each time, then reported fatal with a readable message", async () => {
    const { e, fatal, restarts } = encoder(fakeFfmpeg("exec cat >/dev/null"), { stallMs: 50, maxFailures: 3 }); // takes every frame, never answers
    for (let i = 0; i < 200 && fatal.length === 0; i++) {
      e.encode(frame());
      await Bun.sleep(20);
    }
    expect(fatal).toEqual(["video encoder failed 3 times in a row: ffmpeg produced no frame for 50 ms"]);
    expect(restarts).toEqual(["stalled", "stalled"]);
    expect(e.pid).toBeUndefined();
    expect(e.encode(frame())).toBe(false);
  });

  test("a dead ffmpeg is replaced and frames flow again, starting with a keyframe", async () => {
    const { e, out } = encoder();
    expect(e.encode(frame())).toBe(true);
    await until(() => out.length === 1);
    process.kill(e.pid!, "SIGKILL");
    await Bun.sleep(300);
    for (let i = 0; i < 100 && out.length < 2; i++) {
      e.encode(frame());
      await Bun.sleep(20);
    }
    expect(out.length).toBeGreaterThanOrEqual(2);
    expect(out[1]!.keyframe).toBe(true);
    expect(e.stats.restarts).toBeGreaterThanOrEqual(1);
  });

  test("a binary that cannot be started is a failure counted like a death", async () => {
    const { e, fatal } = encoder("/nonexistent/ffmpeg", { maxFailures: 2 });
    e.encode(frame());
    await until(() => fatal.length === 1);
    expect(fatal[0]).toContain("/nonexistent/ffmpeg");
  });
});
