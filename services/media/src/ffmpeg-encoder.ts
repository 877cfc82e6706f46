/**
 * The ffmpeg encoder backend: one ffmpeg/libx264 process per running encoder, raw I420 frames in on stdin, H.264
 * Annex-B out on stdout, one access unit per frame as soon as it is encoded. A keyframe on demand or a new rate cap
 * takes a fresh process (its first frame is an IDR, ~10–80 ms to start): ffmpeg cannot change either in a running
 * x264. Media uses it where libx264 cannot be loaded into the process (x264-threads.ts), or with ENCODER=ffmpeg.
 */
import type { Frame } from "@ballstream/runtime";
import { AccessUnitParser } from "./annexb.ts";
import type { EncoderBackend, EncoderInstance, EncoderSink } from "./encoder.ts";
import { type EncoderFormat, type X264Settings, crfFor, gopFrames } from "./encoder-settings.ts";
import { vbvArgs } from "./rate-control.ts";

/**
 * The ffmpeg command line (without the binary) for one encoder process. `-fpsprobesize 0`: ffmpeg's stream probe
 * treats a time base below 5 or above 100 fps as unreliable and would read ~20 frames to estimate the rate before
 * encoding the first; with one frame in flight that never ends (docs/media.md, "Every fps"). `-trellis 0`: the
 * bundled ffmpeg 4.1 leaves x264's trellis quantisation on under `-preset ultrafast` (Debian's 5.1 turns it off, as
 * the preset says); off, x264 takes ~18 % less CPU for the same bytes (docs/media.md, "Encoder CPU"). The GOP (or the
 * intra refresh period) is `keyframeIntervalS` seconds of frames at the format's fps, the CRF follows the fps
 * ({@link crfFor}) and the bitrate is capped with a VBV of one frame ({@link vbvArgs}).
 */
export function encoderArgs(format: EncoderFormat, x264: X264Settings): string[] {
  const gop = gopFrames(format.fps, x264.keyframeIntervalS);
  return [
    ...["-hide_banner", "-nostats", "-loglevel", "error", "-fpsprobesize", "0"],
    ...["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", `${format.width}x${format.height}`, "-r", String(format.fps), "-i", "pipe:0"],
    ...["-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline", "-bf", "0", "-threads", "1", "-trellis", "0"],
    ...["-g", String(gop), "-crf", String(crfFor(format.fps)), ...vbvArgs(x264.bitrateKbps, format.fps)],
    ...["-x264-params", x264.intraRefresh ? "repeat-headers=1:intra-refresh=1" : "repeat-headers=1"],
    ...["-flush_packets", "1", "-avioflags", "direct", "-f", "h264", "pipe:1"],
  ];
}

/**
 * glibc malloc settings for every ffmpeg: ffmpeg allocates each 460 KB input packet afresh, glibc served it with
 * mmap (or trimmed the heap after it) and every frame page-faulted its memory in again: 57 faults a frame, 17,220 in
 * 300 frames. Kept on the heap (mmap only above 8 MiB, trim only above 8 MiB free): 810 faults in all, ffmpeg's CPU
 * ×0.82–0.84 (10 pairs, 300 frames of 640×480), peak memory 17.9 instead of 18.4 MiB (docs/media.md, "Encoder
 * CPU"). The `MALLOC_*_` names are what the bundled static build reads; `GLIBC_TUNABLES` the same for newer glibc.
 */
export const FFMPEG_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(8 << 20),
  MALLOC_TRIM_THRESHOLD_: String(8 << 20),
  MALLOC_TOP_PAD_: String(1 << 20),
  GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${8 << 20}:glibc.malloc.trim_threshold=${8 << 20}:glibc.malloc.top_pad=${1 << 20}`,
};

/** Encodes with the ffmpeg binary at `ffmpegPath`, one process per running encoder. */
export class FfmpegBackend implements EncoderBackend {
  readonly name = "ffmpeg";
  readonly inPlace = false;
  readonly ffmpegPath: string;

  constructor(ffmpegPath: string) {
    this.ffmpegPath = ffmpegPath;
  }

  /** Spawns ffmpeg for `format`; throws when it cannot be started. */
  start(format: EncoderFormat, x264: X264Settings, sink: EncoderSink): EncoderInstance {
    let proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
    try {
      proc = Bun.spawn([this.ffmpegPath, ...encoderArgs(format, x264)], {
        env: { ...process.env, ...FFMPEG_MALLOC_ENV },
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
    } catch (err) {
      throw new Error(`cannot start ${this.ffmpegPath}: ${(err as Error).message}`);
    }
    return new FfmpegProcess(proc, sink);
  }
}

/** One running ffmpeg: frames to its stdin, access units parsed from its stdout, the tail of its stderr kept for the exit message. */
class FfmpegProcess implements EncoderInstance {
  readonly #proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  readonly #sink: EncoderSink;
  readonly #parser = new AccessUnitParser();
  #stderrTail = "";
  #ended = false;

  constructor(proc: Bun.Subprocess<"pipe", "pipe", "pipe">, sink: EncoderSink) {
    this.#proc = proc;
    this.#sink = sink;
    void this.#readStderr();
    void this.#readOutput();
  }

  get pid(): number {
    return this.#proc.pid;
  }

  write(frame: Frame): void {
    // A dead process fails the write asynchronously (EPIPE); its exit is handled by #readOutput.
    Promise.resolve(this.#proc.stdin.write(frame.pixels)).catch(() => undefined);
    Promise.resolve(this.#proc.stdin.flush()).catch(() => undefined);
  }

  setBitrate(): void {
    throw new Error("ffmpeg cannot change the rate of a running x264: start a fresh one");
  }

  /** Closes stdin and kills the process: what is still inside it is of no use any more. */
  async end(): Promise<void> {
    this.#ended = true;
    try {
      Promise.resolve(this.#proc.stdin.end()).catch(() => undefined);
    } catch {
      // already closed
    }
    this.#proc.kill("SIGKILL");
    await this.#proc.exited;
  }

  async #readOutput(): Promise<void> {
    const reader = this.#proc.stdout.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (this.#ended) continue; // replaced: its output no longer counts
        const truncatedBefore = this.#parser.truncated;
        for (const unit of this.#parser.push(value)) this.#sink.unit(unit);
        if (this.#parser.truncated !== truncatedBefore) this.#sink.truncated(this.#parser.truncated - truncatedBefore);
      }
    } catch {
      // the process is gone; its exit follows
    }
    await this.#proc.exited;
    if (!this.#ended) this.#sink.exit(`ffmpeg exited with code ${this.#proc.exitCode ?? this.#proc.signalCode}: ${this.#stderrTail.trim().slice(-300) || "no message"}`);
  }

  async #readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.#proc.stderr) this.#stderrTail = (this.#stderrTail + decoder.decode(chunk)).slice(-2000);
    } catch {
      // the process is gone; its exit is handled by #readOutput
    }
  }
}
