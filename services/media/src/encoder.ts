/**
 * One session's encoder: raw I420 frames in, one H.264 access unit per frame out as soon as it is encoded, on one
 * of two backends: libx264 on one of media's encoder threads (x264-threads.ts, the default where libx264 loads) or
 * an ffmpeg process (ffmpeg-encoder.ts). Frames are never queued: while a frame is inside the encoder, new ones are
 * dropped and counted. A keyframe on demand is the next picture forced to an IDR where the backend can do that in
 * place, else a fresh x264 (its first frame is an IDR); see docs/media.md for why that beats a short GOP. A backend
 * instance that dies is restarted with backoff, for this session only, and one that holds a frame too long
 * ("stalled") is replaced at once; after `maxFailures` instances in a row that died or stalled without a single frame
 * the encoder gives up (`onFatal`, which ends the session).
 */
import type { Frame, Logger } from "@ballstream/runtime";
import { nowMs } from "@ballstream/protocol";
import type { AccessUnit } from "./annexb.ts";
import { type EncoderFormat, type X264Settings, gopFrames } from "./encoder-settings.ts";
import { KeyframeCoalescer } from "./keyframe-coalescer.ts";
import { bitrateChange } from "./rate-control.ts";

/** What a running backend instance reports. */
export interface EncoderSink {
  /** The access unit of the oldest frame written and not yet answered (one per frame, in order). */
  unit(unit: AccessUnit): void;
  /** Output that could not be cut into access units was dropped (`count` units): a keyframe repairs the stream. */
  truncated(count: number): void;
  /** The instance is gone (a process exited, a thread died, x264 refused); `message` says why. */
  exit(message: string): void;
}

/** One running x264 of a backend, for one format. */
export interface EncoderInstance {
  /** Hands a frame over; `idr` forces it to an IDR (only where the backend is {@link EncoderBackend.inPlace}). */
  write(frame: Frame, idr: boolean): void;
  /** Takes a new rate cap (kbit/s) from the next frame on (only where the backend is {@link EncoderBackend.inPlace}). */
  setBitrate(kbps: number): void;
  /** Stops it; what is inside is given up and nothing more reaches the sink. */
  end(): Promise<void>;
  /** The process id, for a backend that runs processes (logs, tests). */
  readonly pid?: number;
}

/** Where sessions' frames are encoded. */
export interface EncoderBackend {
  /** For logs and messages: "x264" (in the process) or "ffmpeg". */
  readonly name: string;
  /** True when a running instance makes IDRs on demand and changes its rate cap in place; false: each takes a fresh one. */
  readonly inPlace: boolean;
  /** Starts an instance for `format`; throws when it cannot. */
  start(format: EncoderFormat, x264: X264Settings, sink: EncoderSink): EncoderInstance;
}

/** Tunables of {@link SessionEncoder}. */
export interface EncoderOptions {
  readonly backend: EncoderBackend;
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

/** Defaults of {@link EncoderOptions} (except the backend). */
export const DEFAULT_ENCODER_OPTIONS: Omit<EncoderOptions, "backend"> = {
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

interface InFlight {
  readonly captureTimeMs: number;
  readonly frameId: number;
  readonly writtenAtMs: number;
}

/** A running backend instance; `#current === running` tells the current one from a replaced one. */
interface Running {
  readonly instance: EncoderInstance;
  readonly format: EncoderFormat;
  readonly inFlight: InFlight[];
  produced: boolean;
}

/** The encoder of one session. Call {@link encode} for every frame; {@link stop} ends it for good. */
export class SessionEncoder {
  readonly stats: EncoderStats = { framesIn: 0, framesDropped: 0, framesOut: 0, restarts: 0, truncated: 0 };
  readonly #options: EncoderOptions;
  readonly #backend: EncoderBackend;
  readonly #log: Logger;
  readonly #events: EncoderEvents;
  #current: Running | null = null;
  #format: EncoderFormat | null = null;
  #failures = 0;
  #restartTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #keyframes: KeyframeCoalescer;
  /** The bitrate x264 runs with, and the one wanted (applied in place, or at the next restart). */
  #bitrateKbps: number;
  #wantedKbps: number;
  /** Frames out since the last keyframe: at a GOP's worth, the next frame would be a periodic IDR. */
  #sinceKeyframe = 0;
  #stopped = false;

  constructor(options: EncoderOptions, log: Logger, events: EncoderEvents) {
    this.#options = options;
    this.#backend = options.backend;
    this.#log = log;
    this.#events = events;
    this.#keyframes = new KeyframeCoalescer(options.minKeyframeGapMs);
    this.#bitrateKbps = this.#wantedKbps = options.bitrateKbps;
  }

  /**
   * Hands a frame to the encoder; returns false (and counts a drop) when it cannot take it now. A frame of another
   * size or fps than the last restarts x264 with a keyframe, so its `-r`, GOP and rate control follow the frames.
   * A due bitrate change is applied in place where the backend can; otherwise it, and a due keyframe, restart x264,
   * even while a frame is inside: the frame in flight is given up and this one becomes the IDR, so a wanted keyframe
   * is never dropped by drop-not-queue. In place, a due keyframe is this frame forced to an IDR, once no frame is
   * inside.
   */
  encode(frame: Frame): boolean {
    this.stats.framesIn++;
    if (this.#stopped) return this.#drop();
    const f = this.#format;
    const now = nowMs();
    const inPlace = this.#backend.inPlace;
    if (f === null || f.width !== frame.width || f.height !== frame.height || f.fps !== frame.fps) {
      this.#format = { width: frame.width, height: frame.height, fps: frame.fps };
      this.#replace("format", now);
    } else if (this.#bitrateDue(f)) {
      if (inPlace) this.#setBitrateInPlace();
      else this.#replace("bitrate", now);
    } else if (!inPlace && this.#current?.produced === true && this.#keyframes.take(now)) this.#replace("keyframe", now);
    const p = this.#current;
    if (p === null) return this.#drop();
    const oldest = p.inFlight[0];
    if (oldest !== undefined) {
      if (nowMs() - oldest.writtenAtMs > this.#options.stallMs) this.#stalled();
      return this.#drop();
    }
    const idr = inPlace && p.produced && this.#keyframes.take(now);
    const writtenAtMs = nowMs();
    try {
      p.instance.write(frame, idr);
    } catch (err) {
      this.#log.debug({ err }, "encoder write failed");
      return this.#drop();
    }
    p.inFlight.push({ captureTimeMs: frame.captureTimeMs, frameId: frame.frameId, writtenAtMs });
    return true;
  }

  /**
   * Asks for a keyframe. Returns true when one is on its way now: a fresh x264 was started for it, or (in place)
   * the next frame will be an IDR. False when none is needed (the running x264 has produced nothing yet, so its next
   * frame is an IDR anyway) or when it waits for the `minKeyframeGapMs` since the last one, after which the next
   * frame brings it.
   */
  requestKeyframe(): boolean {
    if (this.#stopped || this.#current === null || !this.#current.produced) return false;
    this.#keyframes.request();
    const now = nowMs();
    if (this.#backend.inPlace) return this.#keyframes.ready(now);
    if (!this.#keyframes.take(now)) return false;
    this.#replace("keyframe", now);
    return true;
  }

  /**
   * Sets the wanted target bitrate (kbit/s). Within the dead band of {@link bitrateChange} (15 %) of the running one
   * it is ignored. In place it applies from the next frame; otherwise a decrease restarts x264 with the next frame
   * and an increase waits for the next periodic keyframe (so it costs no extra IDR).
   */
  setTargetBitrate(kbps: number): void {
    this.#wantedKbps = kbps;
  }

  /** The bitrate the running x264 runs with (kbit/s). */
  get bitrateKbps(): number {
    return this.#bitrateKbps;
  }

  /** Whether a wanted bitrate should be applied with this frame (through ffmpeg: and the keyframe gap allows a restart). */
  #bitrateDue(format: EncoderFormat): boolean {
    const change = bitrateChange(this.#bitrateKbps, this.#wantedKbps);
    if (change === null || this.#current?.produced !== true) return false;
    if (this.#backend.inPlace) return true;
    if (change === "up" && this.#sinceKeyframe < gopFrames(format.fps, this.#options.keyframeIntervalS)) return false;
    return this.#keyframes.ready(nowMs());
  }

  #setBitrateInPlace(): void {
    try {
      this.#current?.instance.setBitrate(this.#wantedKbps);
      this.#bitrateKbps = this.#wantedKbps;
    } catch (err) {
      this.#log.warn({ err, kbps: this.#wantedKbps }, "bitrate change refused; keeping the running one");
      this.#wantedKbps = this.#bitrateKbps;
    }
  }

  /** Process id of the running ffmpeg (for logs and tests), if the backend runs one. */
  get pid(): number | undefined {
    return this.#current?.instance.pid;
  }

  /** Stops the instance and every timer; later frames are dropped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    const p = this.#current;
    this.#current = null;
    if (p !== null) await p.instance.end();
  }

  #drop(): false {
    this.stats.framesDropped++;
    return false;
  }

  /** Ends the current instance (if any) and starts a new one with the current format and wanted bitrate. */
  #replace(reason: string, now: number): void {
    this.#keyframes.made(now);
    const old = this.#current;
    this.#current = null;
    if (old !== null) {
      this.stats.restarts++;
      this.#events.onRestart(reason);
      this.#log.debug({ reason }, "replacing the encoder");
      void old.instance.end();
    }
    this.#start();
  }

  #start(): void {
    if (this.#stopped || this.#format === null) return;
    const format = this.#format;
    this.#bitrateKbps = this.#wantedKbps;
    const x264 = { keyframeIntervalS: this.#options.keyframeIntervalS, bitrateKbps: this.#bitrateKbps, intraRefresh: this.#options.intraRefresh };
    let running: Running | null = null;
    const current = () => running !== null && this.#current === running;
    const sink: EncoderSink = {
      unit: (unit) => {
        if (current()) this.#deliver(running!, unit);
      },
      truncated: (count) => {
        if (!current()) return;
        this.stats.truncated += count;
        this.requestKeyframe();
      },
      exit: (message) => {
        if (!current() || this.#stopped) return;
        this.#current = null;
        this.#failed(message);
      },
    };
    try {
      running = { instance: this.#backend.start(format, x264, sink), format, inFlight: [], produced: false };
    } catch (err) {
      this.#failed((err as Error).message);
      return;
    }
    this.#current = running;
  }

  #deliver(p: Running, unit: AccessUnit): void {
    const source = p.inFlight.shift();
    if (source === undefined) return; // output without input cannot be named; never happens with one AU per frame
    p.produced = true;
    this.#failures = 0;
    this.#sinceKeyframe = unit.keyframe ? 1 : this.#sinceKeyframe + 1;
    this.stats.framesOut++;
    this.#events.onFrame({ ...unit, captureTimeMs: source.captureTimeMs, frameId: source.frameId, encodeMs: nowMs() - source.writtenAtMs });
  }

  /** A frame has been inside the instance for over `stallMs`: replace it at once, or give up if that keeps happening. */
  #stalled(): void {
    const message = `${this.#backend.name} produced no frame for ${this.#options.stallMs} ms`;
    if (this.#countFailure(message)) {
      const p = this.#current;
      this.#current = null;
      if (p !== null) void p.instance.end();
      return;
    }
    this.#log.warn({ message }, "encoder stalled; replacing it");
    this.#replace("stalled", nowMs());
  }

  /** Counts an instance that died or stalled; true (and `onFatal` told) when that was one too many in a row. */
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
}
