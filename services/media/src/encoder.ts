/**
 * One ffmpeg/libx264 process per session: raw I420 frames in on stdin, H.264 Annex-B out on stdout, one access
 * unit per frame as soon as it is encoded. Frames are never queued: while a frame is inside the encoder, new ones
 * are dropped and counted. A keyframe on demand is a fresh x264 (its first frame is an IDR, ~10–80 ms to start);
 * see docs/media.md for why that beats a short GOP. A process that dies is restarted with backoff, for this
 * session only, and one that holds a frame too long ("stalled") is replaced at once; after `maxFailures` processes in
 * a row that died or stalled without a single frame the encoder gives up (`onFatal`, which ends the session).
 */
import type { Frame, Logger } from "@ballstream/runtime";
import { nowMs } from "@ballstream/protocol";
import { type AccessUnit, AccessUnitParser } from "./annexb.ts";
import { KeyframeCoalescer } from "./keyframe-coalescer.ts";
import { bitrateChange, vbvArgs } from "./rate-control.ts";

/** What x264 is told about the pictures: each frame says it (`Frame.fps` beside its size), and a change restarts x264. */
export interface EncoderFormat {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** Tunables of {@link SessionEncoder}. */
export interface EncoderOptions {
  readonly ffmpegPath: string;
  /** Seconds between periodic keyframes (safety net; PLI and new viewers get one at once). */
  readonly keyframeIntervalS: number;
  /** At most one forced keyframe per this many ms; requests in between wait for it (never lost). */
  readonly minKeyframeGapMs: number;
  /** Initial target bitrate in kbit/s (x264 maxrate, VBV of one frame); {@link SessionEncoder.setTargetBitrate} moves it. */
  readonly bitrateKbps: number;
  /** x264 periodic intra refresh (a moving column of intra blocks) instead of periodic IDRs. */
  readonly intraRefresh: boolean;
  /** A frame still inside the encoder after this long means the process hangs: it is restarted. */
  readonly stallMs: number;
  /** Consecutive processes that died or stalled without output before giving up. */
  readonly maxFailures: number;
}

/** Defaults of {@link EncoderOptions} (except the path). */
export const DEFAULT_ENCODER_OPTIONS: Omit<EncoderOptions, "ffmpegPath"> = {
  keyframeIntervalS: 2,
  minKeyframeGapMs: 200,
  bitrateKbps: 2000,
  intraRefresh: false,
  stallMs: 2000,
  maxFailures: 5,
};

/** What the encoder reports to its session. */
export interface EncoderEvents {
  /** An access unit is complete. */
  onFrame(frame: EncodedFrame): void;
  /** A process was replaced (keyframe, new size, hang) or restarted after dying. */
  onRestart(reason: string): void;
  /** The encoder gave up; the session cannot go on. */
  onFatal(message: string): void;
}

/** An encoded frame, named by the capture time of the raw frame it came from. */
export interface EncodedFrame extends AccessUnit {
  readonly captureTimeMs: number;
  readonly frameId: number;
  /** Milliseconds from writing the raw frame to the encoder until its access unit was complete. */
  readonly encodeMs: number;
}

/** Counters of one session's encoder. */
export interface EncoderStats {
  framesIn: number;
  framesDropped: number;
  framesOut: number;
  restarts: number;
  truncated: number;
}

/** What x264 is told besides the format: GOP, rate cap, refresh mode. */
export interface X264Settings {
  readonly keyframeIntervalS: number;
  /** Target bitrate in kbit/s: `-maxrate`, with a VBV (`-bufsize`) of one frame. */
  readonly bitrateKbps: number;
  readonly intraRefresh: boolean;
}

/** x264's CRF at 30 fps and below: ffmpeg's default, with which every figure in docs/media.md was measured. */
export const BASE_CRF = 23;

/**
 * CRF added per doubling of the frame rate above 30 fps. At a fixed CRF, x264 spends bits per frame, and a P-frame
 * of the ball costs almost as much at 120 fps as at 30 (424 vs 610 bytes, 640×480): 120 fps took 2.7× the bytes
 * per second. With +5 per doubling, 60 / 120 fps take 1.16 / 1.17× the 30 fps rate (1.07 / 1.16× at 1920×1080),
 * and the detected centre stays within 0.08 px of the truth (docs/media.md, "Rate control per second").
 */
export const CRF_PER_FPS_DOUBLING = 5;

/** The CRF for frames at `fps`: {@link BASE_CRF} up to 30 fps, then the per-doubling step, so bits per second hold. */
export function crfFor(fps: number): number {
  return Math.round(10 * (BASE_CRF + CRF_PER_FPS_DOUBLING * Math.max(0, Math.log2(fps / 30)))) / 10;
}

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

/** Frames in one GOP: `keyframeIntervalS` seconds at `fps`, at least one. */
function gopFrames(fps: number, keyframeIntervalS: number): number {
  return Math.max(1, Math.round(fps * keyframeIntervalS));
}

interface InFlight {
  readonly captureTimeMs: number;
  readonly frameId: number;
  readonly writtenAtMs: number;
}

/** A running ffmpeg with its parser; `generation` tells a current process from a replaced one. */
interface EncoderProcess {
  readonly proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  readonly format: EncoderFormat;
  readonly parser: AccessUnitParser;
  readonly inFlight: InFlight[];
  produced: boolean;
  stderrTail: string;
}

/** The encoder of one session. Call {@link encode} for every frame; {@link stop} ends it for good. */
export class SessionEncoder {
  readonly stats: EncoderStats = { framesIn: 0, framesDropped: 0, framesOut: 0, restarts: 0, truncated: 0 };
  readonly #options: EncoderOptions;
  readonly #log: Logger;
  readonly #events: EncoderEvents;
  #current: EncoderProcess | null = null;
  #format: EncoderFormat | null = null;
  #failures = 0;
  #restartTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #keyframes: KeyframeCoalescer;
  /** The bitrate x264 runs with, and the one wanted (applied at the next restart). */
  #bitrateKbps: number;
  #wantedKbps: number;
  /** Frames out since the last keyframe: at a GOP's worth, the next frame would be a periodic IDR. */
  #sinceKeyframe = 0;
  #stopped = false;

  constructor(options: EncoderOptions, log: Logger, events: EncoderEvents) {
    this.#options = options;
    this.#log = log;
    this.#events = events;
    this.#keyframes = new KeyframeCoalescer(options.minKeyframeGapMs);
    this.#bitrateKbps = this.#wantedKbps = options.bitrateKbps;
  }

  /**
   * Hands a frame to the encoder; returns false (and counts a drop) when it cannot take it now. A frame of another
   * size or fps than the last restarts x264 with a keyframe, so its `-r`, GOP and rate control follow the frames. A
   * keyframe or bitrate change that is due restarts it too, even while a frame is inside: the frame in flight is
   * given up and this one becomes the IDR, so a wanted keyframe is never dropped by drop-not-queue.
   */
  encode(frame: Frame): boolean {
    this.stats.framesIn++;
    if (this.#stopped) return this.#drop();
    const f = this.#format;
    const now = nowMs();
    if (f === null || f.width !== frame.width || f.height !== frame.height || f.fps !== frame.fps) {
      this.#format = { width: frame.width, height: frame.height, fps: frame.fps };
      this.#replace("format", now);
    } else if (this.#bitrateDue(f)) this.#replace("bitrate", now);
    else if (this.#current?.produced === true && this.#keyframes.take(now)) this.#replace("keyframe", now);
    const p = this.#current;
    if (p === null) return this.#drop();
    const oldest = p.inFlight[0];
    if (oldest !== undefined) {
      if (nowMs() - oldest.writtenAtMs > this.#options.stallMs) this.#stalled();
      return this.#drop();
    }
    const writtenAtMs = nowMs();
    try {
      // A dead process fails the write asynchronously (EPIPE); its exit is handled by #readOutput.
      const onError = (err: unknown) => this.#log.debug({ err }, "encoder stdin write failed");
      Promise.resolve(p.proc.stdin.write(frame.pixels)).catch(onError);
      Promise.resolve(p.proc.stdin.flush()).catch(onError);
    } catch (err) {
      this.#log.debug({ err }, "encoder stdin write failed");
      return this.#drop();
    }
    p.inFlight.push({ captureTimeMs: frame.captureTimeMs, frameId: frame.frameId, writtenAtMs });
    return true;
  }

  /**
   * Asks for a keyframe. Returns true when a fresh x264 was started for it now; false when none is needed (the
   * running x264 has produced nothing yet, so its next frame is an IDR anyway) or when it waits for the
   * `minKeyframeGapMs` since the last one, after which the next frame brings it.
   */
  requestKeyframe(): boolean {
    if (this.#stopped || this.#current === null || !this.#current.produced) return false;
    this.#keyframes.request();
    const now = nowMs();
    if (!this.#keyframes.take(now)) return false;
    this.#replace("keyframe", now);
    return true;
  }

  /**
   * Sets the wanted target bitrate (kbit/s). Within the dead band of {@link bitrateChange} (15 %) of the running one it is ignored; a
   * decrease restarts x264 with the next frame, an increase at the next periodic keyframe (so it costs no extra IDR).
   */
  setTargetBitrate(kbps: number): void {
    this.#wantedKbps = kbps;
  }

  /** The bitrate the running x264 was started with (kbit/s). */
  get bitrateKbps(): number {
    return this.#bitrateKbps;
  }

  /** Whether a wanted bitrate should be applied with this frame (and the keyframe gap allows a restart). */
  #bitrateDue(format: EncoderFormat): boolean {
    const change = bitrateChange(this.#bitrateKbps, this.#wantedKbps);
    if (change === null || this.#current?.produced !== true) return false;
    if (change === "up" && this.#sinceKeyframe < gopFrames(format.fps, this.#options.keyframeIntervalS)) return false;
    return this.#keyframes.ready(nowMs());
  }

  /** Process id of the running ffmpeg (for logs and tests), if one runs. */
  get pid(): number | undefined {
    return this.#current?.proc.pid;
  }

  /** Stops the process and every timer; later frames are dropped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    const p = this.#current;
    this.#current = null;
    if (p !== null) await this.#end(p);
  }

  #drop(): false {
    this.stats.framesDropped++;
    return false;
  }

  /** Ends the current process (if any) and starts a new one with the current format and wanted bitrate. */
  #replace(reason: string, now: number): void {
    this.#keyframes.made(now);
    const old = this.#current;
    this.#current = null;
    if (old !== null) {
      this.stats.restarts++;
      this.#events.onRestart(reason);
      this.#log.debug({ reason }, "replacing encoder process");
      void this.#end(old);
    }
    this.#start();
  }

  #start(): void {
    if (this.#stopped || this.#format === null) return;
    const format = this.#format;
    this.#bitrateKbps = this.#wantedKbps;
    const x264 = { keyframeIntervalS: this.#options.keyframeIntervalS, bitrateKbps: this.#bitrateKbps, intraRefresh: this.#options.intraRefresh };
    let proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
    try {
      proc = Bun.spawn([this.#options.ffmpegPath, ...encoderArgs(format, x264)], {
        env: { ...process.env, ...FFMPEG_MALLOC_ENV },
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
    } catch (err) {
      this.#failed(`cannot start ${this.#options.ffmpegPath}: ${(err as Error).message}`);
      return;
    }
    const p: EncoderProcess = { proc, format, parser: new AccessUnitParser(), inFlight: [], produced: false, stderrTail: "" };
    this.#current = p;
    void this.#readStderr(p);
    void this.#readOutput(p);
  }

  async #readOutput(p: EncoderProcess): Promise<void> {
    const reader = p.proc.stdout.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (this.#current !== p) continue; // replaced: its output no longer counts
        const truncatedBefore = p.parser.truncated;
        for (const unit of p.parser.push(value)) this.#deliver(p, unit);
        if (p.parser.truncated !== truncatedBefore) {
          this.stats.truncated += p.parser.truncated - truncatedBefore;
          this.requestKeyframe();
        }
      }
    } catch (err) {
      this.#log.debug({ err }, "encoder stdout read failed");
    }
    await p.proc.exited;
    if (this.#current === p && !this.#stopped) {
      this.#current = null;
      this.#failed(`ffmpeg exited with code ${p.proc.exitCode ?? p.proc.signalCode}: ${p.stderrTail.trim().slice(-300) || "no message"}`);
    }
  }

  #deliver(p: EncoderProcess, unit: AccessUnit): void {
    const source = p.inFlight.shift();
    if (source === undefined) return; // output without input cannot be named; never happens with one AU per frame
    p.produced = true;
    this.#failures = 0;
    this.#sinceKeyframe = unit.keyframe ? 1 : this.#sinceKeyframe + 1;
    this.stats.framesOut++;
    this.#events.onFrame({ ...unit, captureTimeMs: source.captureTimeMs, frameId: source.frameId, encodeMs: nowMs() - source.writtenAtMs });
  }

  async #readStderr(p: EncoderProcess): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of p.proc.stderr) p.stderrTail = (p.stderrTail + decoder.decode(chunk)).slice(-2000);
    } catch {
      // the process is gone; its exit is handled by #readOutput
    }
  }

  /** A frame has been inside the process for over `stallMs`: replace it at once, or give up if that keeps happening. */
  #stalled(): void {
    const message = `ffmpeg produced no frame for ${this.#options.stallMs} ms`;
    if (this.#countFailure(message)) {
      const p = this.#current;
      this.#current = null;
      if (p !== null) void this.#end(p);
      return;
    }
    this.#log.warn({ message }, "encoder stalled; replacing it");
    this.#replace("stalled", nowMs());
  }

  /** Counts a process that died or stalled; true (and `onFatal` told) when that was one too many in a row. */
  #countFailure(message: string): boolean {
    this.#failures++;
    if (this.#failures < this.#options.maxFailures) return false;
    this.#log.error({ failures: this.#failures, message }, "encoder keeps failing; giving up");
    this.#stopped = true;
    this.#events.onFatal(`video encoder failed ${this.#failures} times in a row: ${message}`);
    return true;
  }

  #failed(message: string): void {
    this.stats.restarts++;
    this.#events.onRestart("died");
    if (this.#countFailure(message)) return;
    const delayMs = Math.min(2000, 50 * 2 ** this.#failures);
    this.#log.warn({ message, delayMs }, "encoder died; restarting");
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#current === null) this.#start();
    }, delayMs);
  }

  /** Closes stdin and kills the process: what is still inside it is of no use any more. */
  async #end(p: EncoderProcess): Promise<void> {
    try {
      Promise.resolve(p.proc.stdin.end()).catch(() => undefined);
    } catch {
      // already closed
    }
    p.proc.kill("SIGKILL");
    await p.proc.exited;
  }
}
