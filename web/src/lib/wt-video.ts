/**
 * The page's WebTransport video path: the server's unidirectional streams carry media's encoded access units
 * ({@link VideoUnit} records, one stream per GOP); {@link DecodeGate} picks the units to decode (newest frame
 * ids only, from a keyframe on); a `VideoDecoder` (H.264 Annex B, codec string from the SPS, `optimizeForLatency`)
 * decodes them; each decoded frame goes to the screen and to the same detection worker as the WebRTC path. To the
 * screen: where the browser has `MediaStreamTrackGenerator` (Chromium), written into a generated track that a
 * `<video>` plays, so it reaches the compositor as WebRTC's frames do and its presentation time is the video's
 * frame callback's, as on the WebRTC path; elsewhere (Firefox) painted on a `desynchronized` 2D canvas, the paint
 * time being its presentation. Browser-only wiring, tested in real Chromium and Firefox (e2e/wt-video*.test.ts);
 * the gate and the surface choice are pure.
 */
import { type Coordinates, type VideoUnit, VideoStreamReader, rtpTimestampFromCaptureTime } from "@ballstream/protocol";
import { avcCodecString } from "./avc-codec.ts";
import type { AttachTarget } from "./coordinates-link.ts";
import type { WorkerDetection, WorkerRequest } from "./detect-worker.ts";
import { relayWorker } from "./detection-source.ts";
import { errorText } from "./failures.ts";

/** Which units reach the decoder: frame ids only grow, and after a start, a gap in the stream or an error, a keyframe first. */
export class DecodeGate {
  #lastFrameId = -1;
  #needKeyframe = true;

  /** Whether to decode `unit` (a late frame, or a delta frame while a keyframe is needed, is dropped). */
  accept(unit: Pick<VideoUnit, "frameId" | "keyframe">): boolean {
    if (unit.frameId <= this.#lastFrameId && !(unit.keyframe && this.#needKeyframe)) return false;
    if (this.#needKeyframe && !unit.keyframe) return false;
    this.#needKeyframe = false;
    this.#lastFrameId = unit.frameId;
    return true;
  }

  /** The decoder lost its state (error, reconfiguration): wait for the next keyframe. */
  reset(): void {
    this.#needKeyframe = true;
  }
}

/** What the WebTransport path shows its frames on: a `<video>` fed by a generated track, or a canvas it paints. */
export type WtSurfaceKind = "video" | "canvas";

/**
 * The surface for this browser: a generated track (`MediaStreamTrackGenerator`, Chromium) on a `<video>`, which
 * skips the 2D canvas's software `drawImage` (1.2–1.3 ms a 640×480 frame, measured) and presents as WebRTC does; a
 * canvas where there is none (Firefox).
 */
export function wtSurfaceKind(scope: Record<string, unknown>): WtSurfaceKind {
  return typeof scope.MediaStreamTrackGenerator === "function" ? "video" : "canvas";
}

/** The rVFC `mediaTime` (s) of a generated track's frame back to the RTP timestamp it was written with (µs). */
export function rtpFromMediaTime(mediaTimeS: number): number {
  return Math.round(mediaTimeS * 1e6) >>> 0;
}

/** A generated video track: a sink for `VideoFrame`s (Chromium's MediaStreamTrackGenerator, not in lib.dom). */
interface TrackGenerator extends MediaStreamTrack {
  readonly writable: WritableStream<VideoFrame>;
}

/** Where the path's results go (epoch ms). */
export interface WtVideoSink {
  /** A unit arrived on a stream (`decoding`: it passed the gate). */
  received(decoding: boolean): void;
  /** A frame was decoded and presented (painted on the canvas, or handed to the compositor by the `<video>`). */
  painted(rtpTimestamp: number, paintedAtMs: number): void;
  /** The worker detected a decoded frame; `sentAtMs` when it sent the coordinates itself. */
  detected(coordinates: Coordinates, sentAtMs?: number): void;
  /** The worker's own connection for the coordinates took (`attached`) or ended. */
  link(attached: boolean, message: string): void;
  /** The decoder was configured with this codec string. */
  configured(codec: string): void;
  /** Something the viewer should know (decoder error, unsupported codec…). */
  event(message: string): void;
}

/** Plays the WebTransport video of `transport` on `surface` (see {@link wtSurfaceKind}) until {@link stop}. */
export class WtVideoPlayer {
  readonly #sink: WtVideoSink;
  readonly #canvas: HTMLCanvasElement | null = null;
  readonly #context: CanvasRenderingContext2D | null = null;
  readonly #video: HTMLVideoElement | null = null;
  readonly #writer: WritableStreamDefaultWriter<VideoFrame> | null = null;
  readonly #worker: Worker;
  readonly #gate = new DecodeGate();
  readonly #readers = new Map<number, ReadableStreamDefaultReader<Uint8Array>>();
  #decoder: VideoDecoder | null = null;
  #codec: string | null = null;
  #stopped = false;

  constructor(transport: WebTransport, surface: HTMLCanvasElement | HTMLVideoElement, sink: WtVideoSink, createWorker: () => Worker) {
    this.#sink = sink;
    if (surface instanceof HTMLVideoElement) {
      const Generator = (globalThis as unknown as { MediaStreamTrackGenerator: new (init: { kind: "video" }) => TrackGenerator }).MediaStreamTrackGenerator;
      const track = new Generator({ kind: "video" });
      this.#writer = track.writable.getWriter();
      this.#video = surface;
      surface.srcObject = new MediaStream([track]);
      void surface.play().catch(() => undefined);
      this.#watchPresentations(surface);
    } else {
      const context = surface.getContext("2d", { desynchronized: true, alpha: false });
      if (!context) throw new Error("No 2D canvas to paint the WebTransport video on.");
      this.#canvas = surface;
      this.#context = context;
    }
    this.#worker = createWorker();
    this.#worker.addEventListener("message", (e: MessageEvent<WorkerDetection>) => relayWorker(e.data, {
      detected: (c, sentAtMs) => sink.detected(c, sentAtMs),
      link: (attached, message) => sink.link(attached, message),
      event: (message) => sink.event(`detector: ${message}`),
    }));
    void this.#acceptStreams(transport.incomingUnidirectionalStreams);
  }

  /** Lets the detection worker send the coordinates of session `target` itself. */
  attach(target: AttachTarget): void {
    this.#worker.postMessage({ type: "attach", ...target } satisfies WorkerRequest);
  }

  /** Stops reading, decoding and detecting. */
  stop(): void {
    this.#stopped = true;
    void this.#writer?.close().catch(() => undefined);
    for (const reader of this.#readers.values()) void reader.cancel().catch(() => undefined);
    this.#readers.clear();
    if (this.#decoder && this.#decoder.state !== "closed") this.#decoder.close();
    this.#worker.terminate();
  }

  async #acceptStreams(streams: ReadableStream<ReadableStream<Uint8Array>>): Promise<void> {
    const reader = streams.getReader();
    let seq = 0;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done || this.#stopped) return;
        void this.#readStream(next.value, ++seq);
      }
    } catch {
      // the session is closing
    }
  }

  async #readStream(stream: ReadableStream<Uint8Array>, seq: number): Promise<void> {
    const reader = stream.getReader();
    this.#readers.set(seq, reader);
    const units = new VideoStreamReader();
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done || this.#stopped) return;
        for (const unit of units.push(next.value)) this.#unit(unit, seq);
      }
    } catch {
      // abandoned by the server for a newer keyframe, or cancelled by us
    } finally {
      this.#readers.delete(seq);
    }
  }

  #unit(unit: VideoUnit, seq: number): void {
    const decoding = this.#gate.accept(unit);
    this.#sink.received(decoding);
    if (!decoding) return;
    if (unit.keyframe) {
      // a newer keyframe makes every older stream's frames useless: stop reading them
      for (const [older, reader] of this.#readers) if (older < seq) void reader.cancel().catch(() => undefined);
      if (!this.#configure(unit.data)) return;
    }
    const decoder = this.#decoder;
    if (!decoder || decoder.state !== "configured") return;
    const timestamp = rtpTimestampFromCaptureTime(unit.captureTimeMs);
    decoder.decode(new EncodedVideoChunk({ type: unit.keyframe ? "key" : "delta", timestamp, data: unit.data }));
  }

  /** Configures a decoder for the keyframe's SPS (once, or again after an error); false if it cannot. */
  #configure(keyframe: Uint8Array): boolean {
    const codec = avcCodecString(keyframe);
    if (codec === null) {
      this.#sink.event("a keyframe without SPS: cannot configure the decoder");
      return false;
    }
    if (this.#decoder && this.#decoder.state === "configured" && codec === this.#codec) return true;
    if (this.#decoder && this.#decoder.state !== "closed") this.#decoder.close();
    this.#decoder = new VideoDecoder({ output: (frame) => this.#output(frame), error: (e) => this.#failed(e) });
    // Annex B with SPS/PPS before every IDR: no `description` needed.
    this.#decoder.configure({ codec, optimizeForLatency: true });
    this.#codec = codec;
    this.#sink.configured(codec);
    return true;
  }

  #failed(error: unknown): void {
    if (this.#stopped) return;
    this.#sink.event(`video decoder: ${errorText(error)}; waiting for the next keyframe`);
    this.#gate.reset();
    this.#decoder = null;
  }

  #output(frame: VideoFrame): void {
    if (this.#stopped) return void frame.close();
    const decodedAtMs = performance.timeOrigin + performance.now();
    const rtpTimestamp = frame.timestamp >>> 0;
    if (this.#writer) {
      // The generated track takes the frame (and closes it); the detector gets a clone (shared pixels, no copy).
      const forDetector = frame.clone();
      void this.#writer.write(frame).catch(() => undefined);
      this.#detect(forDetector, rtpTimestamp, decodedAtMs);
      return;
    }
    // Paint first, then hand the frame to the detector: posting a clone before the paint delayed it by ~1 ms.
    const canvas = this.#canvas!;
    const { displayWidth: width, displayHeight: height } = frame;
    if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    this.#context!.drawImage(frame, 0, 0, width, height);
    this.#sink.painted(rtpTimestamp, performance.timeOrigin + performance.now());
    this.#detect(frame, rtpTimestamp, decodedAtMs);
  }

  /** The `<video>`'s frame callbacks: each presented frame, named by the RTP timestamp it was written with. */
  #watchPresentations(video: HTMLVideoElement): void {
    const onFrame = (_now: number, metadata: VideoFrameCallbackMetadata) => {
      if (this.#stopped) return;
      this.#sink.painted(rtpFromMediaTime(metadata.mediaTime), performance.timeOrigin + metadata.presentationTime);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /** Hands a frame to the detection worker (transferred; cloned where a browser cannot transfer frames). */
  #detect(frame: VideoFrame, rtpTimestamp: number, decodedAtMs: number): void {
    const request: WorkerRequest = { type: "frame", frame, rtpTimestamp, decodedAtMs };
    try {
      this.#worker.postMessage(request, [frame]);
    } catch {
      this.#worker.postMessage(request);
      frame.close();
    }
  }
}
