/** The page session's parts: its state store, the report channel, the detection source, loading /config.json. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, type Coordinates, type ErrorReport, decodeCoordinates, encodeCoordinates, encodeErrorReport } from "@ballstream/protocol";
import { loadClientConfig } from "../src/lib/client-config.ts";
import { type DetectionSink, browserDetectionPlatform, relayWorker, startDetection } from "../src/lib/detection-source.ts";
import { ReportChannel } from "../src/lib/report-channel.ts";
import { MAX_EVENTS, SessionStore } from "../src/lib/session-state.ts";
import { rgbaFrame } from "./synthetic.ts";

const coords: Coordinates = { rtpTimestamp: 7, found: true, x: 1, y: 2, decodedAtMs: 1000, detectMs: 0.5 };
const report: ErrorReport = {
  frameMatched: true, found: true, frameId: 9, rtpTimestamp: 7, detectedX: 1, detectedY: 2, frameTruthX: 1.5, frameTruthY: 2,
  nowTruthX: 6, nowTruthY: 2, realtimeErrorPx: 5, frameErrorPx: 0.5, latencyMs: 30, captureTimeMs: 1000, arrivalMs: 1030,
};

/** A sample's three glass-to-glass figures (compositor, expected display, from the browser's capture time). */
const g2g = (glassToGlassMs: number | null, glassToGlassExpectedMs: number | null, glassToGlassBrowserMs: number | null) => ({ glassToGlassMs, glassToGlassExpectedMs, glassToGlassBrowserMs });

describe("SessionStore", () => {
  const storeWith = () => {
    let changes = 0;
    const store = new SessionStore(() => void changes++);
    return { store, changes: () => changes };
  };

  test("status only moves forward: idle → connecting → streaming → closed, and stays at the end", () => {
    const { store, changes } = storeWith();
    expect(store.state.status).toBe("idle");
    store.connecting();
    store.opened("A".repeat(22), DEFAULT_SETTINGS);
    store.streaming();
    store.connecting(); // never back
    expect([store.state.status, store.state.sessionId, store.ended]).toEqual(["streaming", "A".repeat(22), false]);
    expect(store.closed(0, "stopped by the viewer")).toBe(true);
    expect([store.state.status, store.state.error, store.state.closeReason, store.ended]).toEqual(["closed", null, "stopped by the viewer", true]);
    const seen = changes();
    expect(store.failed("late")).toBe(false);
    store.reported(report);
    store.streaming();
    expect([store.state.status, store.state.error, store.state.reportsReceived, changes()]).toEqual(["closed", null, 0, seen]);
  });

  test("a non-zero close code is an error message; a failure is status error", () => {
    const closed = storeWith().store;
    closed.closed(1, "bye");
    expect([closed.state.status, closed.state.closeCode, closed.state.error]).toEqual(["closed", 1, "The server shut down: serverShutdown (code 1) — bye"]);
    const failed = storeWith().store;
    failed.connecting();
    expect(failed.failed("Cannot reach the server")).toBe(true);
    expect(failed.closed(0, "")).toBe(false);
    expect([failed.state.status, failed.state.error, failed.state.closeCode]).toEqual(["error", "Cannot reach the server", null]);
  });

  test("counts detections, datagrams and reports; keeps the newest glass-to-glass; bounds the events; tells each change", () => {
    const { store, changes } = storeWith();
    store.detecting("worker-videoframe");
    store.coordinatesSender("detection worker");
    store.detected(coords);
    store.sent();
    store.reported(report);
    store.glassToGlass(g2g(12, null, null));
    store.glassToGlass(g2g(null, 20, 12.3)); // not presented (or no truth): keeps 12, no change
    store.settingsChanged({ ...DEFAULT_SETTINGS, fps: 60 });
    store.inbound({ ...store.state.inbound, framesDecoded: 3 });
    for (let i = 0; i < MAX_EVENTS + 5; i++) store.event(`media: ${i}`);
    const s = store.state;
    expect([s.detectionPath, s.coordinatesSender, s.framesDetected, s.framesSent, s.reportsReceived, s.lastDetection, s.lastReport, s.glassToGlassMs]).toEqual([
      "worker-videoframe", "detection worker", 1, 1, 1, coords, report, 12,
    ]);
    expect([s.settings?.fps, s.inbound.framesDecoded, s.events.length, s.events[0]]).toEqual([60, 3, MAX_EVENTS, "media: 5"]);
    expect(changes()).toBe(8 + MAX_EVENTS + 5);
  });

  test("glass-to-glass to the expected display and from the browser's capture time: the newest sample with each, the pair from one frame", () => {
    const { store } = storeWith();
    store.glassToGlass(g2g(3.5, 12, 3.8));
    expect([store.state.glassToGlassMs, store.state.glassToGlassExpectedMs, store.state.browserCapture]).toEqual([3.5, 12, { browserMs: 3.8, oursMs: 3.5 }]);
    store.glassToGlass(g2g(4.1, null, null)); // the browser said neither for this frame: those keep their frame's
    expect([store.state.glassToGlassMs, store.state.glassToGlassExpectedMs, store.state.browserCapture]).toEqual([4.1, 12, { browserMs: 3.8, oursMs: 3.5 }]);
    store.glassToGlass(g2g(5, 20.2, 5.4));
    expect([store.state.glassToGlassMs, store.state.glassToGlassExpectedMs, store.state.browserCapture]).toEqual([5, 20.2, { browserMs: 5.4, oursMs: 5 }]);
    expect(store.state.wt.browserCapture).toBeNull();
  });
});

describe("ReportChannel", () => {
  const duplexOf = (datagrams: Uint8Array[], { older = false, failRead = false } = {}) => {
    const written: Uint8Array[] = [];
    const readable = new ReadableStream<Uint8Array>({
      start: (c) => datagrams.forEach((d) => c.enqueue(d)),
      pull: (c) => (failRead ? c.error(new Error("transport closed")) : c.close()),
    });
    const writable = () => new WritableStream<Uint8Array>({ write: (c) => void written.push(c) });
    return { duplex: older ? { readable, writable: writable() } : { readable, writable: new WritableStream(), createWritable: writable }, written };
  };

  test("sends coordinates as datagrams (createWritable, or the older writable); never throws", async () => {
    for (const older of [false, true]) {
      const { duplex, written } = duplexOf([], { older });
      const channel = new ReportChannel(duplex);
      channel.send(coords);
      await Bun.sleep(0);
      expect(written.map(decodeCoordinates)).toEqual([coords]);
    }
    const broken = new ReportChannel({ readable: new ReadableStream(), writable: new WritableStream({ write: () => Promise.reject(new Error("gone")) }) });
    expect(() => broken.send(coords)).not.toThrow();
  });

  test("yields the error reports, drops malformed datagrams, ends when the transport closes or fails", async () => {
    for (const failRead of [false, true]) {
      const { duplex } = duplexOf([encodeErrorReport(report), new Uint8Array(3), encodeCoordinates(coords), encodeErrorReport({ ...report, rtpTimestamp: 8 })], { failRead });
      const got: number[] = [];
      for await (const r of new ReportChannel(duplex).reports()) got.push(r.rtpTimestamp);
      expect(got).toEqual([7, 8]);
    }
  });
});

describe("detection source", () => {
  /** A `<video>` whose frame callbacks the test fires. */
  const fakeVideo = () => {
    const callbacks: VideoFrameRequestCallback[] = [];
    const video = { requestVideoFrameCallback: (cb: VideoFrameRequestCallback) => callbacks.push(cb) } as unknown as HTMLVideoElement;
    const present = (rtpTimestamp: number | undefined, presentationTime: number, more: Partial<VideoFrameCallbackMetadata> = {}) =>
      callbacks.shift()?.(0, { rtpTimestamp, presentationTime, width: 640, height: 480, ...more } as VideoFrameCallbackMetadata);
    return { video, present, pending: () => callbacks.length };
  };
  const recorder = () => {
    const calls: unknown[][] = [];
    const sink: DetectionSink = {
      detected: (c, sentAtMs) => void calls.push(sentAtMs === undefined ? ["detected", c.rtpTimestamp] : ["detected", c.rtpTimestamp, sentAtMs]),
      link: (attached, m) => void calls.push(["link", attached, m]),
      presented: (rtp, p) => void calls.push(["presented", rtp, p.presentedAtMs - performance.timeOrigin, (p.expectedDisplayMs ?? Number.NaN) - performance.timeOrigin, p.rvfcCaptureMs]),
      detectedAtPresentation: (c, p) => void calls.push(["detectedAtPresentation", c.rtpTimestamp, c.found, Math.round(c.x), p.presentedAtMs - performance.timeOrigin]),
      event: (m) => void calls.push(["event", m]),
    };
    return { sink, calls };
  };
  const track = { clone: () => "clone" } as unknown as MediaStreamTrack;

  test("worker path: the clone's frames go to the worker; its detections and events, and the presentations, reach the sink", () => {
    const { video, present, pending } = fakeVideo();
    const { sink, calls } = recorder();
    const listeners: ((e: MessageEvent) => void)[] = [];
    const posted: unknown[] = [];
    let terminated = false;
    const worker = {
      addEventListener: (_: string, l: (e: MessageEvent) => void) => listeners.push(l),
      postMessage: (m: unknown, transfer: unknown[]) => posted.push(m, transfer),
      terminate: () => void (terminated = true),
    } as unknown as Worker;
    const frames = new ReadableStream<VideoFrame>();
    const source = startDetection(video, track, sink, {
      trackFrames: (t) => (expect(t).toBe("clone" as never), frames),
      createWorker: () => worker,
      createCanvas: () => expect.unreachable(),
    });
    expect(source.path).toBe("worker-videoframe");
    expect(posted).toEqual([{ type: "start", frames }, [frames]]);
    listeners[0]!({ data: { type: "detection", coordinates: coords } } as MessageEvent);
    listeners[0]!({ data: { type: "error", message: "no RTP timestamp" } } as MessageEvent);
    present(7, 12, { expectedDisplayTime: 28 });
    present(undefined, 13); // no RTP timestamp: skipped, still called again
    const target = { url: "https://127.0.0.1:4433/wt", options: {}, sessionId: "S".repeat(22), token: "m.t" };
    source.attach(target);
    expect(posted.at(-2)).toEqual({ type: "attach", ...target });
    listeners[0]!({ data: { type: "link", attached: true, message: "own connection" } } as MessageEvent);
    listeners[0]!({ data: { type: "detection", coordinates: coords, sentAtMs: 99 } } as MessageEvent);
    expect(calls).toEqual([["detected", 7], ["event", "no RTP timestamp"], ["presented", 7, 12, 28, null], ["link", true, "own connection"], ["detected", 7, 99]]);
    source.stop();
    present(8, 14);
    expect([terminated, pending(), calls.length]).toEqual([true, 0, 5]);
  });

  test("main-thread fallback: detects the drawn video in each presentation callback; no 2D context throws", () => {
    const { video, present, pending } = fakeVideo();
    const { sink, calls } = recorder();
    const pixels = rgbaFrame(100.7, 50.5, 24, [255, 90, 31], [16, 20, 28]);
    const canvas = {
      width: 0,
      height: 0,
      getContext: () => ({ drawImage: () => undefined, getImageData: () => ({ data: pixels }) }),
    } as unknown as HTMLCanvasElement;
    const source = startDetection(video, track, sink, { trackFrames: null, createWorker: () => expect.unreachable(), createCanvas: () => canvas });
    expect(source.path).toBe("main-thread-canvas");
    present(9, 20);
    expect(calls).toEqual([["detectedAtPresentation", 9, true, 101, 20]]);
    expect([canvas.width, canvas.height]).toEqual([640, 480]);
    source.stop();
    present(10, 21);
    expect([calls.length, pending()]).toEqual([1, 0]);
    const noContext = { getContext: () => null } as unknown as HTMLCanvasElement;
    expect(() => startDetection(video, track, sink, { trackFrames: null, createWorker: () => expect.unreachable(), createCanvas: () => noContext })).toThrow(
      "No 2D canvas for detection.",
    );
  });

  test("relayWorker: each worker message reaches its own sink method, sentAtMs only when the worker sent", () => {
    const { sink, calls } = recorder();
    relayWorker({ type: "detection", coordinates: coords }, sink);
    relayWorker({ type: "detection", coordinates: { ...coords, rtpTimestamp: 8 }, sentAtMs: 41 }, sink);
    relayWorker({ type: "link", attached: false, message: "own connection lost" }, sink);
    relayWorker({ type: "error", message: "decoded frames carry no RTP timestamp" }, sink);
    expect(calls).toEqual([["detected", 7], ["detected", 8, 41], ["link", false, "own connection lost"], ["event", "decoded frames carry no RTP timestamp"]]);
  });

  test("browserDetectionPlatform: the worker path needs both MediaStreamTrackProcessor and Worker", () => {
    class Processor {
      readable = "readable";
    }
    expect(browserDetectionPlatform({}).trackFrames).toBeNull();
    expect(browserDetectionPlatform({ MediaStreamTrackProcessor: Processor }).trackFrames).toBeNull();
    const frames = browserDetectionPlatform({ MediaStreamTrackProcessor: Processor, Worker: class {} }).trackFrames;
    expect(frames?.(track)).toBe("readable" as never);
  });
});

describe("loadClientConfig", () => {
  const config = { wtPort: 4433, wtPath: "/wt", certificateHashes: [], defaults: DEFAULT_SETTINGS };
  test("validates the answer; each failure has its readable message", async () => {
    expect((await loadClientConfig(async () => Response.json(config))).wtPort).toBe(4433);
    expect(loadClientConfig(async () => new Response("nope", { status: 404 }))).rejects.toThrow("The server answered /config.json with HTTP 404");
    expect(loadClientConfig(() => Promise.reject(new TypeError("Failed to fetch")))).rejects.toThrow("Cannot reach the server for /config.json (Failed to fetch)");
    expect(loadClientConfig(async () => Response.json({ ...config, wtPort: 0 }))).rejects.toThrow("The server's /config.json is invalid: config.wtPort");
    expect(loadClientConfig(async () => new Response("{"))).rejects.toThrow("The server's /config.json is invalid");
  });
});
