/**
 * Which frames reach the detector, and when. With `MediaStreamTrackProcessor` every decoded `VideoFrame` of a clone
 * of the track is read by the detection worker (detect-worker.ts; the processor's readable is transferable, the
 * track is not), and `requestVideoFrameCallback` names the frames the compositor presents. Without it the video
 * element is drawn onto a canvas and detected on the main thread in each presentation callback, which may see a
 * frame one newer than the metadata names (≤ 1 frame of motion). See docs/web.md.
 */
import type { Coordinates } from "@ballstream/protocol";
import type { WorkerDetection, WorkerRequest } from "./detect-worker.ts";
import { detectBallRgba } from "./detect.ts";
import { type Presentation, presentationOf } from "./display-times.ts";
import { coordinatesOf } from "./frame-flow.ts";
import type { AttachTarget } from "./coordinates-link.ts";
import type { DetectionPath } from "./session-state.ts";

/** Where the detection source's results go (epoch ms). */
export interface DetectionSink {
  /** The worker detected a decoded frame (before it is shown); `sentAtMs` when it sent the coordinates itself. */
  detected(coordinates: Coordinates, sentAtMs?: number): void;
  /** The worker's own connection for the coordinates took (`attached`) or ended; `message` says which. */
  link(attached: boolean, message: string): void;
  /** The compositor presented a frame (worker path); called inside its frame callback. */
  presented(rtpTimestamp: number, presentation: Presentation): void;
  /** Main-thread fallback: a frame detected in its own presentation callback. */
  detectedAtPresentation(coordinates: Coordinates, presentation: Presentation): void;
  /** Something the detector wants the viewer to know (e.g. frames without an RTP timestamp). */
  event(message: string): void;
}

/** What detection needs from the browser (fakes in tests). */
export interface DetectionPlatform {
  /** The decoded frames of a track (`MediaStreamTrackProcessor`), or null where the browser cannot. */
  readonly trackFrames: ((track: MediaStreamTrack) => ReadableStream<VideoFrame>) | null;
  readonly createWorker: () => Worker;
  readonly createCanvas: () => HTMLCanvasElement;
}

/** A running detection source. */
export interface DetectionSource {
  readonly path: DetectionPath;
  /** Lets the worker send the coordinates of session `target` itself (the canvas fallback: the page goes on sending). */
  attach(target: AttachTarget): void;
  /** Stops the worker and the frame callbacks. */
  stop(): void;
}

type ProcessorClass = new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> };

/** The real browser's platform: the worker path needs both `MediaStreamTrackProcessor` and `Worker`. */
export function browserDetectionPlatform(scope: Record<string, unknown> = globalThis as unknown as Record<string, unknown>): DetectionPlatform {
  const Processor = scope.MediaStreamTrackProcessor as ProcessorClass | undefined;
  return {
    trackFrames: typeof Processor === "function" && typeof scope.Worker === "function" ? (track) => new Processor({ track }).readable : null,
    createWorker: () => new Worker(new URL("./detect-worker.ts", import.meta.url), { type: "module" }),
    createCanvas: () => document.createElement("canvas"),
  };
}

/** Starts detecting the frames of `track`, which plays in `video`; throws if the fallback has no 2D canvas. */
export function startDetection(video: HTMLVideoElement, track: MediaStreamTrack, sink: DetectionSink, platform = browserDetectionPlatform()): DetectionSource {
  let stopped = false;
  /** Calls `f` with the RTP timestamp and the times (epoch ms) of every frame the compositor shows. */
  const onPresented = (f: (rtp: number, presentation: Presentation, metadata: VideoFrameCallbackMetadata) => void) => {
    const callback = (_now: number, metadata: VideoFrameCallbackMetadata) => {
      if (stopped) return;
      if (metadata.rtpTimestamp !== undefined) f(metadata.rtpTimestamp, presentationOf(metadata, performance.timeOrigin), metadata);
      video.requestVideoFrameCallback(callback);
    };
    video.requestVideoFrameCallback(callback);
  };
  if (platform.trackFrames) {
    const worker = platform.createWorker();
    worker.addEventListener("message", (e: MessageEvent<WorkerDetection>) => {
      relayWorker(e.data, sink);
    });
    const frames = platform.trackFrames(track.clone());
    worker.postMessage({ type: "start", frames } satisfies WorkerRequest, [frames]);
    onPresented((rtp, presentation) => sink.presented(rtp, presentation));
    const stop = () => {
      stopped = true;
      worker.terminate();
    };
    const attach = (target: AttachTarget) => worker.postMessage({ type: "attach", ...target } satisfies WorkerRequest);
    return { path: "worker-videoframe", attach, stop };
  }
  const canvas = platform.createCanvas();
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) throw new Error("No 2D canvas for detection.");
  onPresented((rtp, presentation, { width, height }) => {
    if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    const t0 = performance.now();
    context.drawImage(video, 0, 0, width, height);
    const ball = detectBallRgba(context.getImageData(0, 0, width, height).data, width, height);
    sink.detectedAtPresentation(coordinatesOf(rtp, ball, presentation.presentedAtMs, performance.now() - t0), presentation);
  });
  return { path: "main-thread-canvas", attach: () => undefined, stop: () => void (stopped = true) };
}

/** Hands one message of a detection worker to the sink it is for. */
export function relayWorker(message: WorkerDetection, sink: Pick<DetectionSink, "detected" | "link" | "event">): void {
  if (message.type === "detection") sink.detected(message.coordinates, message.sentAtMs);
  else if (message.type === "link") sink.link(message.attached, message.message);
  else sink.event(message.message);
}
