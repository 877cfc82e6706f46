/**
 * Dedicated worker: reads the decoded video frames (a `MediaStreamTrackProcessor` readable transferred from the
 * page), finds the ball in each with {@link detectBall} on the luma plane, and posts one {@link WorkerDetection}
 * per frame, named by the frame's RTP timestamp (`VideoFrame.metadata().rtpTimestamp`, Chromium ≥ 122).
 * Runs off the main thread so that detection never delays the compositor.
 */
import type { Coordinates } from "@ballstream/protocol";
import { detectBall, detectBallRgba } from "./detect.ts";
import { coordinatesOf } from "./frame-flow.ts";

/** Page → worker. */
export type WorkerRequest = { readonly type: "start"; readonly frames: ReadableStream<VideoFrame> };
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

async function run(scope: WorkerScope, frames: ReadableStream<VideoFrame>): Promise<void> {
  const reader = frames.getReader();
  let buffer = new Uint8Array(0);
  let warned = false;
  for (;;) {
    const { done, value: frame } = await reader.read();
    if (done) return;
    try {
      const decodedAtMs = performance.timeOrigin + performance.now();
      const rtpTimestamp = rtpTimestampOf(frame);
      if (rtpTimestamp === null) {
        if (!warned) scope.postMessage({ type: "error", message: "decoded frames carry no RTP timestamp (VideoFrame.metadata)" });
        warned = true;
        continue;
      }
      const size = frame.allocationSize();
      if (buffer.length < size) buffer = new Uint8Array(size);
      const t0 = performance.now();
      const ball = await detectInFrame(frame, buffer);
      scope.postMessage({ type: "detection", coordinates: coordinatesOf(rtpTimestamp, ball, decodedAtMs, performance.now() - t0) });
    } finally {
      frame.close();
    }
  }
}

const scope = globalThis as unknown as WorkerScope;
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.addEventListener("message", (e) => {
    if (e.data.type === "start") run(scope, e.data.frames).catch((err: unknown) => scope.postMessage({ type: "error", message: String(err) }));
  });
}
