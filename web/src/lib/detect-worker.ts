/**
 * Dedicated worker: reads the decoded video frames (a `MediaStreamTrackProcessor` readable transferred from the
 * page), finds the ball in each with {@link detectBall} on the luma plane of the window where it can be
 * (detect-window.ts; the whole frame to acquire it), and posts one {@link WorkerDetection}
 * per frame, named by the frame's RTP timestamp (`VideoFrame.metadata().rtpTimestamp`, Chromium ≥ 122). The
 * WebTransport path posts its WebCodecs-decoded frames one by one instead (`frame`), named by the page. Once the
 * page names its session (`attach`), the worker sends the coordinates itself on a connection of its own
 * ({@link openCoordinatesLink}) and says so (`sentAtMs`); until then, and whenever that connection fails, the page
 * sends them. Runs off the main thread so that detection never delays the compositor, nor the compositor detection.
 */
import type { Coordinates } from "@ballstream/protocol";
import { detectBall, detectBallRgba } from "./detect.ts";
import { type BallTrack, type FoundBall, type Rect, fitsWindow, nextTrack, searchWindow } from "./detect-window.ts";
import { coordinatesOf } from "./frame-flow.ts";
import { type AttachTarget, type CoordinatesLink, openCoordinatesLink } from "./coordinates-link.ts";
import { errorText } from "./failures.ts";

/**
 * Page → worker: a track's frames to read, or one decoded frame (the worker closes it) with its RTP timestamp, or
 * the session to send the coordinates for on the worker's own connection.
 */
export type WorkerRequest =
  | { readonly type: "start"; readonly frames: ReadableStream<VideoFrame> }
  | { readonly type: "frame"; readonly frame: VideoFrame; readonly rtpTimestamp: number; readonly decodedAtMs: number }
  | ({ readonly type: "attach" } & AttachTarget);
/**
 * Worker → page: a detection (`sentAtMs` when the worker sent it itself, epoch ms), what became of its own
 * connection (`link`), or a problem.
 */
export type WorkerDetection =
  | { readonly type: "detection"; readonly coordinates: Coordinates; readonly sentAtMs?: number }
  | { readonly type: "link"; readonly attached: boolean; readonly message: string }
  | { readonly type: "error"; readonly message: string };

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
/** The worker's own connection for the coordinates, while attached. */
let link: CoordinatesLink | null = null;

/** Attaches a connection of the worker's own to `target` (replacing any); tells the page how that went and ends. */
async function attachTo(scope: WorkerScope, target: AttachTarget): Promise<void> {
  link?.close();
  link = null;
  let opened: CoordinatesLink;
  try {
    opened = await openCoordinatesLink(target);
  } catch (e) {
    scope.postMessage({ type: "link", attached: false, message: `own connection refused (${errorText(e)}): the page sends the coordinates` });
    return;
  }
  link = opened;
  scope.postMessage({ type: "link", attached: true, message: "the detection worker sends the coordinates on its own connection" });
  const why = await opened.closed;
  if (link !== opened) return; // replaced by a newer attach
  link = null;
  scope.postMessage({ type: "link", attached: false, message: `own connection ${why}: the page sends the coordinates` });
}

/** Detects one frame, sends its coordinates when attached, and posts them (`path` set for WebTransport frames); closes the frame. */
async function detectOne(scope: WorkerScope, frame: VideoFrame, rtpTimestamp: number, decodedAtMs: number, path?: "webtransport"): Promise<void> {
  try {
    const size = frame.allocationSize();
    if (buffer.length < size) buffer = new Uint8Array(size);
    const t0 = performance.now();
    const detected = await detectTracked(frame, rtpTimestamp, buffer, track);
    track = detected.track;
    const { ball } = detected;
    const found = coordinatesOf(rtpTimestamp, ball, decodedAtMs, performance.now() - t0);
    const coordinates = path ? { ...found, path } : found;
    if (!link) return scope.postMessage({ type: "detection", coordinates });
    link.send(coordinates);
    scope.postMessage({ type: "detection", coordinates, sentAtMs: performance.timeOrigin + performance.now() });
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
    else if (request.type === "attach") attachTo(scope, request).catch(fail);
    else queue = queue.then(() => detectOne(scope, request.frame, request.rtpTimestamp, request.decodedAtMs, "webtransport")).catch(fail);
  });
}
