/**
 * Test page script (bundled by the harness): the product's own offer (web/src/lib/webrtc.ts) and frame-exact
 * detection (web/src/lib/detect-worker.ts on the decoded `VideoFrame`, named by its RTP timestamp), plus
 * requestVideoFrameCallback presentation times for the latency benchmark. The offer goes to the harness's
 * `POST /offer`, which stands in for signaling.
 */
import { detectInFrame, rtpTimestampOf } from "@ballstream/web/detect-worker";
import { createReceiveOffer } from "@ballstream/web/webrtc";

/** One decoded frame's detection. */
export interface PageDetection {
  readonly rtp: number;
  readonly found: boolean;
  readonly x: number;
  readonly y: number;
}

/** One presented frame (rVFC): RTP timestamp and presentation time in epoch ms. */
export interface PagePresentation {
  readonly rtp: number;
  readonly presentedAtMs: number;
}

/** The inbound video figures the tests read. */
export interface PageStats {
  readonly mimeType: string;
  readonly framesDecoded: number;
  readonly framesReceived: number;
  readonly packetsLost: number;
  readonly packetsReceived: number;
  readonly nackCount: number;
  readonly pliCount: number;
  readonly keyFramesDecoded: number;
  readonly bytesReceived: number;
}

/** What the page exposes to the test as `window.receiver`. */
export interface Receiver {
  readonly detections: PageDetection[];
  readonly presentations: PagePresentation[];
  connectionState(): string;
  stats(): Promise<PageStats | null>;
  close(): void;
}

declare global {
  interface Window {
    receiver?: Receiver;
    receiverError?: string;
  }
  // Chromium exposes it on Window; lib.dom types it for workers only.
  // eslint-disable-next-line no-var
  var MediaStreamTrackProcessor: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> };
}

async function detectAll(track: MediaStreamTrack, out: PageDetection[]): Promise<void> {
  const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
  let buffer = new Uint8Array(0);
  for (;;) {
    const { done, value: frame } = await reader.read();
    if (done) return;
    try {
      const rtp = rtpTimestampOf(frame);
      if (rtp === null) continue;
      if (buffer.length < frame.allocationSize()) buffer = new Uint8Array(frame.allocationSize());
      const d = await detectInFrame(frame, buffer);
      out.push({ rtp, found: d.found, x: d.x, y: d.y });
    } finally {
      frame.close();
    }
  }
}

function watchPresentations(video: HTMLVideoElement, out: PagePresentation[]): void {
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
    if (meta.rtpTimestamp !== undefined) out.push({ rtp: meta.rtpTimestamp >>> 0, presentedAtMs: performance.timeOrigin + meta.presentationTime });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

async function start(): Promise<void> {
  const detections: PageDetection[] = [];
  const presentations: PagePresentation[] = [];
  const video = document.querySelector("video")!;
  const { pc, sdp } = await createReceiveOffer(3000);
  pc.addEventListener("track", (e) => {
    video.srcObject = new MediaStream([e.track]);
    void video.play();
    watchPresentations(video, presentations);
    void detectAll(e.track, detections);
  });
  const res = await fetch("/offer", { method: "POST", body: JSON.stringify({ sdp }) });
  const body = (await res.json()) as { sdp?: string; error?: string };
  if (body.sdp === undefined) throw new Error(body.error ?? "no answer");
  await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
  window.receiver = {
    detections,
    presentations,
    connectionState: () => pc.connectionState,
    stats: async () => {
      const report = await pc.getStats();
      let inbound: Record<string, unknown> | undefined;
      report.forEach((s: Record<string, unknown>) => {
        if (s.type === "inbound-rtp" && s.kind === "video") inbound = s;
      });
      if (inbound === undefined) return null;
      const codec = report.get(String(inbound.codecId)) as { mimeType?: string } | undefined;
      const n = (k: string) => Number(inbound![k] ?? 0);
      return {
        mimeType: codec?.mimeType ?? "",
        framesDecoded: n("framesDecoded"),
        framesReceived: n("framesReceived"),
        packetsLost: n("packetsLost"),
        packetsReceived: n("packetsReceived"),
        nackCount: n("nackCount"),
        pliCount: n("pliCount"),
        keyFramesDecoded: n("keyFramesDecoded"),
        bytesReceived: n("bytesReceived"),
      };
    },
    close: () => pc.close(),
  };
}

start().catch((err: unknown) => (window.receiverError = String(err)));
