/** The per-session encoder against real ffmpeg/libx264. */
import { afterEach, describe, expect, test } from "bun:test";
import { type Frame, createLogger, i420ByteLength } from "@ballstream/runtime";
import { nowMs } from "@ballstream/protocol";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_ENCODER_OPTIONS, type EncodedFrame, SessionEncoder, crfFor, encoderArgs } from "../src/encoder.ts";

const X264 = { keyframeIntervalS: 2, bitrateKbps: 2000, intraRefresh: false };
import { resolveFfmpeg } from "../src/ffmpeg-path.ts";

const log = createLogger("encoder-test", { level: "silent" });
const W = 160;
const H = 120;
let frameId = 0;

function frame(shade = frameId * 9, fps = 30): Frame {
  const pixels = new Uint8Array(i420ByteLength(W, H)).fill(16);
  pixels.fill(shade & 0xff, (frameId % 40) * W, (frameId % 40) * W + 20 * W);
  return { sessionId: "s", frameId: frameId++, captureTimeMs: nowMs(), x: 0, y: 0, vx: 0, vy: 0, width: W, height: H, radius: 5, fps, pixelFormat: "I420", pixels };
}

const encoders: SessionEncoder[] = [];
function encoder(options: Partial<typeof DEFAULT_ENCODER_OPTIONS> & { ffmpegPath?: string } = {}) {
  const out: EncodedFrame[] = [];
  const fatal: string[] = [];
  const events = { onFrame: (f: EncodedFrame) => out.push(f), onRestart: () => undefined, onFatal: (m: string) => fatal.push(m) };
  const e = new SessionEncoder({ ...DEFAULT_ENCODER_OPTIONS, ffmpegPath: resolveFfmpeg().path, ...options }, log, events);
  encoders.push(e);
  return { e, out, fatal };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

/** Encodes one frame and waits for it to come out. */
async function encodeOne(e: SessionEncoder, out: EncodedFrame[]): Promise<EncodedFrame> {
  const n = out.length;
  expect(e.encode(frame())).toBe(true);
  await until(() => out.length > n);
  return out.at(-1)!;
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
    expect([1, 30, 60, 100, 120].map(crfFor)).toEqual([23, 23, 28, 31.7, 33]);
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

describe("SessionEncoder", () => {
  test("each frame comes out as one access unit named by its capture time; the first is a keyframe", async () => {
    const { e, out } = encoder();
    const sent: Frame[] = [];
    for (let i = 0; i < 5; i++) {
      const f = frame();
      sent.push(f);
      expect(e.encode(f)).toBe(true);
      await until(() => out.length === i + 1);
    }
    expect(out.map((f) => f.frameId)).toEqual(sent.map((f) => f.frameId));
    expect(out.map((f) => f.captureTimeMs)).toEqual(sent.map((f) => f.captureTimeMs));
    expect(out.map((f) => f.keyframe)).toEqual([true, false, false, false, false]);
    expect(out.every((f) => f.encodeMs >= 0)).toBe(true);
    expect(e.stats).toMatchObject({ framesIn: 5, framesOut: 5, framesDropped: 0, truncated: 0 });
  });

  // ffmpeg's probe distrusts rates below 5 and above 100 fps and used to wait for ~20 frames before the first
  // access unit: with one frame in flight nothing ever came out (issue 13).
  test.each([1, 4, 5, 100, 101, 120])("at %d fps a single frame comes out without more frames behind it", async (fps) => {
    const { e, out } = encoder();
    expect(e.encode(frame(frameId * 9, fps))).toBe(true);
    await until(() => out.length === 1, 5000);
    expect(out[0]!.keyframe).toBe(true);
  });

  // Without FFMPEG_MALLOC_ENV the bundled ffmpeg page-faulted ~57 times a 640×480 frame (its input packet's memory
  // mmapped or trimmed away and faulted in again each frame); with it, a handful.
  test("ffmpeg keeps its frame memory: few page faults per frame once running", async () => {
    const out: EncodedFrame[] = [];
    const e = new SessionEncoder({ ...DEFAULT_ENCODER_OPTIONS, ffmpegPath: resolveFfmpeg().path }, log, { onFrame: (f) => out.push(f), onRestart: () => undefined, onFatal: () => undefined });
    encoders.push(e);
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

  test("a frame arriving while one is inside the encoder is dropped, not queued", async () => {
    const { e, out } = encoder();
    expect(e.encode(frame())).toBe(true);
    expect(e.encode(frame())).toBe(false);
    expect(e.encode(frame())).toBe(false);
    await until(() => out.length === 1);
    await Bun.sleep(50);
    expect(out).toHaveLength(1);
    expect(e.stats).toMatchObject({ framesIn: 3, framesDropped: 2, framesOut: 1 });
    expect(e.encode(frame())).toBe(true);
  });

  test("a keyframe request makes the next frame a keyframe; requests close together are coalesced", async () => {
    const { e, out } = encoder({ minKeyframeGapMs: 150 });
    expect(e.requestKeyframe()).toBe(false); // nothing encoded yet: the first frame is a keyframe anyway
    await encodeOne(e, out);
    expect((await encodeOne(e, out)).keyframe).toBe(false);
    await Bun.sleep(150); // the first IDR counts: at most one per minKeyframeGapMs
    expect(e.requestKeyframe()).toBe(true);
    expect(e.requestKeyframe()).toBe(false); // the fresh encoder has not produced yet
    expect((await encodeOne(e, out)).keyframe).toBe(true);
    expect(e.requestKeyframe()).toBe(false); // within minKeyframeGapMs: it waits
    expect((await encodeOne(e, out)).keyframe).toBe(false);
    expect(e.stats.restarts).toBe(1);
  });

  test("keyframe requests repeated within the gap are honoured once, when the gap has passed", async () => {
    const { e, out } = encoder({ minKeyframeGapMs: 300 });
    await encodeOne(e, out);
    await encodeOne(e, out);
    for (let i = 0; i < 10; i++) expect(e.requestKeyframe()).toBe(false); // the fresh encoder's IDR was < 300 ms ago
    for (let i = 0; i < 200 && !out.slice(2).some((f) => f.keyframe); i++) {
      e.encode(frame());
      await Bun.sleep(10);
    }
    expect(out.slice(2).filter((f) => f.keyframe)).toHaveLength(1);
    expect(e.stats.restarts).toBe(1);
  });

  test("a keyframe survives a full drop queue: the frame in flight is given up and the next one is the IDR", async () => {
    const { e, out } = encoder({ minKeyframeGapMs: 0 });
    await encodeOne(e, out);
    await encodeOne(e, out);
    expect(e.encode(frame())).toBe(true); // in flight: the queue of one is full
    expect(e.encode(frame())).toBe(false); // dropped
    expect(e.requestKeyframe()).toBe(true);
    const next = await encodeOne(e, out);
    expect(next.keyframe).toBe(true);
    expect(out.filter((f) => f.keyframe)).toHaveLength(2);
  });

  test("noise at a target bitrate comes out within 70–105 % of it", async () => {
    const { e, out } = encoder({ bitrateKbps: 300 });
    for (let i = 0; i < 60; i++) {
      const f = frame();
      crypto.getRandomValues(f.pixels);
      expect(e.encode(f)).toBe(true);
      await until(() => out.length === i + 1);
    }
    const kbps = (out.reduce((s, f) => s + f.nals.reduce((n, nal) => n + 4 + nal.length, 0), 0) * 8) / (60 / 30) / 1000;
    expect(kbps).toBeGreaterThan(300 * 0.7);
    expect(kbps).toBeLessThan(300 * 1.05);
  });

  test("a lower target restarts x264 with the next frame; a higher one waits for the periodic keyframe; small changes none", async () => {
    const { e, out } = encoder({ keyframeIntervalS: 1, minKeyframeGapMs: 0 });
    const at10fps = async () => {
      const n = out.length;
      expect(e.encode(frame(frameId * 9, 10))).toBe(true);
      await until(() => out.length > n);
      return out.at(-1)!;
    };
    await at10fps();
    e.setTargetBitrate(1900); // within the dead band
    expect((await at10fps()).keyframe).toBe(false);
    e.setTargetBitrate(1000);
    expect((await at10fps()).keyframe).toBe(true);
    expect(e.bitrateKbps).toBe(1000);
    e.setTargetBitrate(2000);
    const gop: boolean[] = [];
    for (let i = 0; i < 10; i++) gop.push((await at10fps()).keyframe);
    expect(gop).toEqual([false, false, false, false, false, false, false, false, false, true]); // the 10-frame GOP's IDR
    expect(e.bitrateKbps).toBe(2000);
    expect(e.stats.restarts).toBe(2);
  });

  test("a new picture size restarts the encoder with a keyframe", async () => {
    const { e, out } = encoder();
    await encodeOne(e, out);
    const big = { ...frame(), width: W * 2, height: H * 2, pixels: new Uint8Array(i420ByteLength(W * 2, H * 2)) };
    expect(e.encode(big)).toBe(true);
    await until(() => out.length === 2);
    expect(out[1]!.keyframe).toBe(true);
  });

  test("a frame at another fps restarts the encoder with a keyframe; the same fps does not", async () => {
    const { e, out } = encoder();
    await encodeOne(e, out);
    expect((await encodeOne(e, out)).keyframe).toBe(false);
    expect(e.encode(frame(frameId * 9, 120))).toBe(true);
    await until(() => out.length === 3);
    expect(out[2]!.keyframe).toBe(true);
    expect(e.stats.restarts).toBe(1);
  });

  test("an encoder that keeps dying is restarted, then reported fatal; stop() leaves no timer or process", async () => {
    const dir = mkdtempSync(join(tmpdir(), "media-enc-"));
    const fake = join(dir, "ffmpeg");
    writeFileSync(fake, "#!/bin/sh\necho 'fake encoder failure' >&2\nexit 3\n");
    chmodSync(fake, 0o755);
    const { e, fatal } = encoder({ ffmpegPath: fake, maxFailures: 3 });
    e.encode(frame());
    await until(() => fatal.length === 1);
    expect(fatal[0]).toContain("fake encoder failure");
    expect(e.stats.restarts).toBe(3);
    expect(e.encode(frame())).toBe(false);
  });

  test("an encoder that keeps stalling is replaced each time, then reported fatal with a readable message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "media-enc-"));
    const fake = join(dir, "ffmpeg");
    writeFileSync(fake, "#!/bin/sh\nexec cat >/dev/null\n"); // takes every frame, never answers
    chmodSync(fake, 0o755);
    const restarts: string[] = [];
    const fatal: string[] = [];
    const options = { ...DEFAULT_ENCODER_OPTIONS, ffmpegPath: fake, stallMs: 50, maxFailures: 3 };
    const e = new SessionEncoder(options, log, { onFrame: () => undefined, onRestart: (r) => restarts.push(r), onFatal: (m) => fatal.push(m) });
    encoders.push(e);
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
    await encodeOne(e, out);
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
});
