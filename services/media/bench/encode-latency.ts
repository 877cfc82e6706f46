/**
 * Encoder latency per ffmpeg setting, side by side: `bun bench/encode-latency.ts [frames] [rounds] [fps]` writes
 * `frames` moving-ball 640×480 frames, one at a time and paced at `fps` (as media feeds them), to one ffmpeg per
 * variant, and times raw frame written → access unit complete (what `media_encode_seconds` measures). The variants
 * take turns, round after round, so the shared machine's load hits them alike; it prints each round's p50 / p95 and
 * the bytes per frame. The variants are the shipped arguments and the latency levers of issue 20 (docs/media.md,
 * "Encoder latency"): none of them was taken. `pipe-1MiB` hands ffmpeg its own pipe, grown with F_SETPIPE_SZ
 * (Linux, through bun:ffi), written with one `writeSync` of the whole frame, instead of Bun's stdin socket.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, writeSync } from "node:fs";
import { nowMs } from "@ballstream/protocol";
import { quantile } from "@ballstream/testing";
import { AccessUnitParser } from "../src/annexb.ts";
import { FFMPEG_MALLOC_ENV, encoderArgs } from "../src/ffmpeg-encoder.ts";
import { resolveFfmpeg } from "../src/ffmpeg-path.ts";

const [FRAMES, ROUNDS, FPS] = [2, 3, 4].map((i, k) => Number(process.argv[i] ?? [200, 3, 60][k])) as [number, number, number];
const W = 640;
const H = 480;
const F_SETPIPE_SZ = 1031;
const O_CLOEXEC = 0x80000;

const shipped = encoderArgs({ width: W, height: H, fps: FPS }, { keyframeIntervalS: 2, bitrateKbps: 2000, intraRefresh: false });
/** The shipped arguments with input options `flags` (before the input's `-f rawvideo`). */
const withInputOptions = (flags: string[]) => {
  const at = shipped.indexOf("-f");
  return [...shipped.slice(0, at), ...flags, ...shipped.slice(at)];
};
/** The shipped arguments with option `name`'s value replaced. */
const withValue = (name: string, value: string) => shipped.map((a, i) => (shipped[i - 1] === name ? value : a));
/** The shipped arguments without `-maxrate`/`-bufsize` and with `-qp 23` for `-crf` (constant QP: no VBV). */
const constantQp = shipped.flatMap((a, i) => (a === "-crf" ? ["-qp"] : shipped[i - 1] === "-crf" ? ["23"] : ["-maxrate", "-bufsize"].includes(a) || ["-maxrate", "-bufsize"].includes(shipped[i - 1]!) ? [] : [a]));

interface Variant {
  readonly name: string;
  readonly args: string[];
  readonly input: "bun-stdin" | "pipe-1MiB";
}
const VARIANTS: Variant[] = [
  { name: "shipped", args: shipped, input: "bun-stdin" },
  { name: "pipe-1MiB", args: shipped, input: "pipe-1MiB" },
  { name: "nobuffer,probesize32,analyzeduration0", args: withInputOptions(["-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0"]), input: "bun-stdin" },
  { name: "threads2 (sliced threads)", args: withValue("-threads", "2"), input: "bun-stdin" },
  { name: "qp23 (no VBV)", args: constantQp, input: "bun-stdin" },
  { name: "avioflags-direct-off", args: shipped.filter((a, i) => !(a === "-avioflags" || shipped[i - 1] === "-avioflags")), input: "bun-stdin" },
];

const libc = process.platform === "linux" ? dlopen("libc.so.6", { pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 }, fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 } }) : null;

/** A pipe of 1 MiB (a whole 460 KB frame fits): [read end, write end]. */
function bigPipe(): [number, number] {
  if (libc === null) throw new Error("pipe-1MiB needs Linux");
  const fds = new Int32Array(2);
  if (libc.symbols.pipe2(ptr(fds), O_CLOEXEC) !== 0) throw new Error("pipe2 failed");
  if (libc.symbols.fcntl(fds[1]!, F_SETPIPE_SZ, 1 << 20) < 0) throw new Error("F_SETPIPE_SZ failed");
  return [fds[0]!, fds[1]!];
}

const pixels = new Uint8Array((W * H * 3) / 2);
/** The ball (radius 24, 320 px/s) at frame `i` over a flat background, as the flat scene draws it (no anti-aliasing). */
function draw(i: number): void {
  pixels.fill(16, 0, W * H).fill(128, W * H);
  const cx = 24 + ((i * 320) / FPS) % (W - 48);
  for (let y = 216; y < 264; y++) for (let x = Math.floor(cx - 24); x < cx + 24; x++) if (Math.hypot(x + 0.5 - cx, y + 0.5 - 240) < 24) pixels[y * W + x] = 235;
}

/** One ffmpeg of `v`, `FRAMES` frames: write → access unit per frame (the first two, x264's start, left out), and bytes per frame. */
async function run(v: Variant): Promise<{ ms: number[]; bytesPerFrame: number }> {
  const [readFd, writeFd] = v.input === "pipe-1MiB" ? bigPipe() : [-1, -1];
  const proc = Bun.spawn([resolveFfmpeg().path, ...v.args], { env: { ...process.env, ...FFMPEG_MALLOC_ENV }, stdin: readFd >= 0 ? readFd : "pipe", stdout: "pipe", stderr: "inherit" });
  if (readFd >= 0) closeSync(readFd);
  const parser = new AccessUnitParser();
  const ms: number[] = [];
  let bytes = 0;
  let writtenAt = 0;
  const waiting: { arrived?: () => void } = {};
  const reading = (async () => {
    for await (const chunk of proc.stdout) {
      for (const unit of parser.push(chunk)) {
        ms.push(nowMs() - writtenAt);
        bytes += unit.nals.reduce((n, nal) => n + nal.length, 0);
        waiting.arrived?.();
      }
    }
  })();
  for (let i = 0; i < FRAMES; i++) {
    const slot = performance.now();
    draw(i);
    const out = new Promise<void>((resolve) => (waiting.arrived = resolve));
    writtenAt = nowMs();
    if (writeFd >= 0) writeSync(writeFd, pixels);
    else if (typeof proc.stdin !== "number") {
      proc.stdin.write(pixels);
      proc.stdin.flush();
    }
    await Promise.race([out, Bun.sleep(500)]);
    await Bun.sleep(Math.max(0, 1000 / FPS - (performance.now() - slot)));
  }
  if (writeFd >= 0) closeSync(writeFd);
  else if (typeof proc.stdin !== "number") proc.stdin.end();
  await reading;
  await proc.exited;
  return { ms: ms.slice(2), bytesPerFrame: bytes / Math.max(1, ms.length) };
}

const rows = new Map<string, string[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (const v of VARIANTS) {
    const { ms, bytesPerFrame } = await run(v);
    const cell = `${quantile(ms, 0.5).toFixed(2)} / ${quantile(ms, 0.95).toFixed(2)} (${ms.length}, ${bytesPerFrame.toFixed(0)} B)`;
    rows.set(v.name, [...(rows.get(v.name) ?? []), cell]);
  }
}
console.log(`write → access unit, ms p50 / p95 (frames, bytes per access unit), ${FRAMES} frames at ${FPS} fps, ${ROUNDS} rounds taking turns:`);
for (const [name, cells] of rows) console.log(`${name.padEnd(40)} ${cells.join(" | ")}`);
