/**
 * Dedicated worker: reads the decoded video frames (a `MediaStreamTrackProcessor` readable transferred from the
 * page), finds the ball in each with {@link detectBall} on the luma plane of the window where it can be
 * (detect-window.ts; the whole frame to acquire it), and posts one {@link WorkerDetection}
 * per frame, named by the frame's RTP timestamp (`VideoFrame.metadata().rtpTimestamp`, Chromium ≥ 122). The
 * WebTransport path posts its WebCodecs-decoded frames one by one instead (`frame`), named by the page.
 * Runs off the main thread so that detection never delays the compositor.
 */
import type { Coordinates } from "@ballstream/protocol";
import { detectBall, detectBallRgba } from "./detect.ts";
import { type BallTrack, type FoundBall, type Rect, fitsWindow, nextTrack, searchWindow } from "./detect-window.ts";
import { coordinatesOf } from "./frame-flow.ts";

/** Page → worker: a track's frames to read, or one decoded frame (the worker closes it) with its RTP timestamp. */
export type WorkerRequest =
  | { readonly type: "start"; readonly frames: ReadableStream<VideoFrame> }
  | { readonly type: "frame"; readonly frame: VideoFrame; readonly rtpTimestamp: number; readonly decodedAtMs: number };
/** Worker → page. */
export type WorkerDetection = { readonly type: "detection"; readonly coordinates: Coordinates } | { readonly type: "error"; readonly message: string };

interface WorkerScope {
  addEventListener(type: "message", listener: (e: MessageEvent<WorkerRequest>) => void): void;
  postMessage(message: WorkerDetection): void;
}

/** The RTP timestamp Chromium attaches to frames received over WebRTC, or null. */
export function rtpTimestampOf(frame: VideoFrame): number | null {
  const metadata = (frame as VideoFrame & { metadata?: () => Record<string, unknown> }).metadata?.();
  const rtp = metadata?.rtpTimestamp;
  return typeof rtp === "number" ? rtp >>> 0 : null;
}

/** Copies `rect` of a frame's visible pixels (all of them when absent) and detects the ball in it (luma plane for
 * YUV formats, RGBA/BGRA otherwise); `buffer` must hold the whole frame (`allocationSize()`). Frame coordinates. */
export async function detectInFrame(frame: VideoFrame, buffer: Uint8Array, rect?: Rect): Promise<FoundBall> {
  const visible = frame.visibleRect ?? { x: 0, y: 0, width: frame.displayWidth, height: frame.displayHeight };
  const layout = await (rect ? frame.copyTo(buffer, { rect: { ...rect, x: visible.x + rect.x, y: visible.y + rect.y } }) : frame.copyTo(buffer));
  const width = rect?.width ?? visible.width;
  const height = rect?.height ?? visible.height;
  const plane = layout[0]!;
  const ball = frame.format?.startsWith("RGB") || frame.format?.startsWith("BGR")
    ? detectBallRgba(buffer.subarray(plane.offset), width, height)
    : detectBall({ data: buffer.subarray(plane.offset), width, height, stride: plane.stride });
  return rect ? { ...ball, x: ball.x + rect.x, y: ball.y + rect.y } : ball;
}

/**
 * Detects one frame where the ball can be ({@link searchWindow}), and the whole frame when that does not fit
 * ({@link fitsWindow}) or there is no window; returns the detection, the next track and the window used (null: whole).
 */
export async function detectTracked(frame: VideoFrame, rtpTimestamp: number, buffer: Uint8Array, track: BallTrack | null): Promise<{ ball: FoundBall; track: BallTrack | null; window: Rect | null }> {
  const visible = frame.visibleRect ?? { x: 0, y: 0, width: frame.displayWidth, height: frame.displayHeight };
  const aligned = visible.x % 2 === 0 && visible.y % 2 === 0; // copyTo's rect must fall on chroma samples
  let window = aligned ? searchWindow(track, rtpTimestamp, visible.width, visible.height) : null;
  let ball = window && track ? await detectInFrame(frame, buffer, window) : null;
  if (!ball || !window || !track || !fitsWindow(ball, window, track)) {
    window = null;
    ball = await detectInFrame(frame, buffer);
  }
  return { ball, track: nextTrack(track, ball, rtpTimestamp, visible.width, visible.height), window };
}

let buffer = new Uint8Array(0);
/** The ball as last seen (each worker detects one source of frames: a track's, or the posted WebTransport frames). */
let track: BallTrack | null = null;

/** Detects one frame and posts its coordinates (`path` set for WebTransport frames); closes the frame. */
async function detectOne(scope: WorkerScope, frame: VideoFrame, rtpTimestamp: number, decodedAtMs: number, path?: "webtransport"): Promise<void> {
  try {
    const size = frame.allocationSize();
    if (buffer.length < size) buffer = new Uint8Array(size);
    const t0 = performance.now();
    const detected = await detectTracked(frame, rtpTimestamp, buffer, track);
    track = detected.track;
    const { ball } = detected;
    const coordinates = coordinatesOf(rtpTimestamp, ball, decodedAtMs, performance.now() - t0);
    scope.postMessage({ type: "detection", coordinates: path ? { ...coordinates, path } : coordinates });
  } finally {
    frame.close();
  }
}

async function run(scope: WorkerScope, frames: ReadableStream<VideoFrame>): Promise<void> {
  const reader = frames.getReader();
  let warned = false;
  for (;;) {
    const { done, value: frame } = await reader.read();
    if (done) return;
    const decodedAtMs = performance.timeOrigin + performance.now();
    const rtpTimestamp = rtpTimestampOf(frame);
    if (rtpTimestamp === null) {
      frame.close();
      if (!warned) scope.postMessage({ type: "error", message: "decoded frames carry no RTP timestamp (VideoFrame.metadata)" });
      warned = true;
      continue;
    }
    await detectOne(scope, frame, rtpTimestamp, decodedAtMs);
  }
}

const scope = globalThis as unknown as WorkerScope;
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  const fail = (err: unknown) => scope.postMessage({ type: "error", message: String(err) });
  /** Posted frames are detected one after another (detection takes ~0.5 ms, a frame period 8–33 ms). */
  let queue = Promise.resolve();
  scope.addEventListener("message", (e) => {
    const request = e.data;
    if (request.type === "start") run(scope, request.frames).catch(fail);
    else queue = queue.then(() => detectOne(scope, request.frame, request.rtpTimestamp, request.decodedAtMs, "webtransport")).catch(fail);
  });
}
