/**
 * Dedicated worker: reads the decoded video frames (a `MediaStreamTrackProcessor` readable transferred from the
 * page), finds the ball in each with {@link detectBall} on the luma plane, and posts one {@link WorkerDetection}
 * per frame, named by the frame's RTP timestamp (`VideoFrame.metadata().rtpTimestamp`, Chromium ≥ 122). The
 * WebTransport path posts its WebCodecs-decoded frames one by one instead (`frame`), named by the page.
 * Runs off the main thread so that detection never delays the compositor.
 */
import type { Coordinates } from "@ballstream/protocol";
import { detectBall, detectBallRgba } from "./detect.ts";
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

/** Copies a frame's visible pixels and detects the ball (luma plane for YUV formats, RGBA/BGRA otherwise). */
export async function detectInFrame(frame: VideoFrame, buffer: Uint8Array): Promise<{ found: boolean; x: number; y: number }> {
  const layout = await frame.copyTo(buffer);
  const width = frame.visibleRect?.width ?? frame.displayWidth;
  const height = frame.visibleRect?.height ?? frame.displayHeight;
  const plane = layout[0]!;
  if (frame.format?.startsWith("RGB") || frame.format?.startsWith("BGR")) {
    return detectBallRgba(buffer.subarray(plane.offset), width, height);
  }
  return detectBall({ data: buffer.subarray(plane.offset), width, height, stride: plane.stride });
}

let buffer = new Uint8Array(0);

/** Detects one frame and posts its coordinates (`path` set for WebTransport frames); closes the frame. */
async function detectOne(scope: WorkerScope, frame: VideoFrame, rtpTimestamp: number, decodedAtMs: number, path?: "webtransport"): Promise<void> {
  try {
    const size = frame.allocationSize();
    if (buffer.length < size) buffer = new Uint8Array(size);
    const t0 = performance.now();
    const ball = await detectInFrame(frame, buffer);
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
