/**
 * One Chromium session measured from the outside: the page's `window.ballstream` samples, plus an rVFC recorder and
 * `getStats()` reader the benchmark installs before the page's own scripts run (the page itself is not changed).
 * On the WebTransport path (`?transport=webtransport`) there is no video element playing and no peer connection:
 * the presentations are the page's own paint times (its samples), and the decoded frames its painted count.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { waitForHook } from "@ballstream/web/hook-reader";
import type { BallstreamHook } from "@ballstream/web/hook";
import type { Sample } from "@ballstream/web/samples";
import { captureTimeFromRtp } from "./frame-counter.ts";
import type { FrameTiming } from "./stages.ts";

/** One rVFC callback: RTP timestamp and the frame's receive and presentation times (epoch ms). */
export interface PresentedFrame {
  readonly rtp: number;
  readonly receiveMs: number | null;
  readonly presentedMs: number;
  readonly processingMs: number | null;
}

/** The inbound video counters of `getStats()` the benchmark differences between two reads. */
export interface InboundTotals {
  readonly framesDecoded: number;
  readonly framesReceived: number;
  readonly framesDropped: number;
  readonly packetsLost: number;
  readonly jitterBufferDelay: number;
  readonly jitterBufferEmittedCount: number;
  readonly totalDecodeTime: number;
  readonly freezeCount: number;
  /** The sender's own count, from its RTCP sender reports (`remote-outbound-rtp` bytesSent). */
  readonly bytesSent: number;
}

/** What one window of a probe measured. */
export interface ProbeWindow {
  readonly seconds: number;
  /** Frames the generator drew for the session in the window (span of the reported frame ids, at least window × fps: reports can be missing). */
  readonly framesGenerated: number;
  readonly framesDecoded: number;
  readonly framesDropped: number;
  readonly packetsLost: number;
  readonly framesPresented: number;
  /** Samples whose frame was captured in the window. */
  readonly samples: Sample[];
  /** Every presented frame joined with its sample (if any). */
  readonly timings: FrameTiming[];
  readonly jitterBufferMs: number;
  readonly decodeMs: number;
  /** getStats freezeCount over the window. */
  readonly freezes: number;
  /** Sender bitrate over the window (kbit/s), from its RTCP sender reports. */
  readonly senderKbps: number;
  /** The page's status (and error) when the window ended, if its session was no longer streaming; null while it streamed. */
  readonly ended: string | null;
  /** Window start, epoch ms (page clock = this machine's clock). */
  readonly startMs: number;
}

/** Receiver hints under test (`RTCRtpReceiver.jitterBufferTarget` in ms, legacy `playoutDelayHint` in s). */
export interface ReceiverHints {
  readonly jitterBufferTarget?: number;
  readonly playoutDelayHint?: number;
}

interface BenchGlobal {
  __bench: { pcs: RTCPeerConnection[]; frames: PresentedFrame[]; recording: boolean; hints: ReceiverHints | null };
  ballstream?: BallstreamHook;
}

/** Runs in the page before its scripts: keeps every RTCPeerConnection and applies pending receiver hints. */
function instrument(): void {
  const g = globalThis as unknown as BenchGlobal;
  g.__bench = { pcs: [], frames: [], recording: false, hints: null };
  const Original = RTCPeerConnection;
  class Recorded extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      g.__bench.pcs.push(this);
      this.addEventListener("track", (e) => {
        const hints = g.__bench.hints as Record<string, number> | null;
        if (hints) for (const [k, v] of Object.entries(hints)) (e.receiver as unknown as Record<string, number>)[k] = v;
      });
    }
  }
  (globalThis as unknown as { RTCPeerConnection: typeof RTCPeerConnection }).RTCPeerConnection = Recorded;
}

/** A Chromium page running one ballstream session. */
export interface Probe {
  readonly page: Page;
  /** Measures one window of `ms`. */
  measure(ms: number): Promise<ProbeWindow>;
  /** Closes the page (its session ends) and its context. */
  close(): Promise<void>;
}

/** How a probe opens: receiver hints, the scene, and whether to wait for error reports (a link that decodes nothing has none). */
export interface ProbeOptions {
  readonly hints?: ReceiverHints;
  readonly scene?: string;
  /** Wait only until the session streams, not until reports come back. */
  readonly streamingOnly?: boolean;
  /** The video path to play (the page's default, WebRTC, when absent). */
  readonly transport?: "webtransport";
  /** Join this broadcast channel (`?channel=`) instead of a private session. */
  readonly channel?: string;
}

/** The page's address for a probe: `?fps=` and, when given, `&scene=`, `&transport=webtransport`, `&channel=`. */
export function probeUrl(url: string, fps: number, opts: Pick<ProbeOptions, "scene" | "transport" | "channel"> = {}): string {
  const q = new URLSearchParams({ fps: String(fps) });
  if (opts.scene) q.set("scene", opts.scene);
  if (opts.transport === "webtransport") q.set("transport", "webtransport");
  if (opts.channel) q.set("channel", opts.channel);
  return `${url}?${q}`;
}

/** Opens `url` with `?fps=` (and `&scene=`, `&channel=`) in a fresh context, waits until errors come back (or it streams), starts the rVFC recorder. */
export async function openProbe(browser: Browser, url: string, fps: number, opts: ProbeOptions = {}): Promise<Probe> {
  const hints = opts.hints ?? null;
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const console: string[] = [];
  page.on("console", (m) => void console.push(`${m.type()}: ${m.text()}`));
  await page.addInitScript(instrument);
  if (hints) await page.addInitScript((h) => void ((globalThis as unknown as BenchGlobal).__bench.hints = h), hints);
  const wt = opts.transport === "webtransport";
  await page.goto(probeUrl(url, fps, opts));
  const hook = await waitForHook(
    page,
    opts.streamingOnly ? "streaming" : "streaming with reports",
    (h) => (h.status === "streaming" && (opts.streamingOnly || (wt ? h.wt.reportsReceived : h.reportsReceived) > 0)) || h.status === "error" || h.status === "closed",
    30_000,
  );
  if (hook.status !== "streaming") {
    await context.close();
    throw new Error(`probe page failed: ${hook.status} ${hook.error}\n${console.slice(-20).join("\n")}`);
  }
  if (opts.channel !== undefined && hook.channel?.name !== opts.channel) {
    await context.close();
    throw new Error(`probe page streams but not in channel ${opts.channel} (its channel: ${JSON.stringify(hook.channel)})`);
  }
  await page.evaluate(() => {
    const g = globalThis as unknown as BenchGlobal;
    const video = document.querySelector("video");
    if (!video) throw new Error("no <video> on the page");
    const loop = (_now: number, md: VideoFrameCallbackMetadata) => {
      if (g.__bench.recording && md.rtpTimestamp !== undefined) {
        g.__bench.frames.push({
          rtp: md.rtpTimestamp,
          receiveMs: md.receiveTime === undefined ? null : performance.timeOrigin + md.receiveTime,
          presentedMs: performance.timeOrigin + md.presentationTime,
          processingMs: md.processingDuration === undefined ? null : md.processingDuration * 1000,
        });
      }
      video.requestVideoFrameCallback(loop);
    };
    video.requestVideoFrameCallback(loop);
  });
  return {
    page,
    measure: (ms) => measureWindow(page, ms, fps, wt),
    close: async () => {
      await page.evaluate(() => (globalThis as unknown as BenchGlobal).ballstream?.stop()).catch(() => undefined);
      await context.close();
    },
  };
}

function readInboundTotals(page: Page): Promise<InboundTotals | null> {
  return page.evaluate(async () => {
    for (const pc of (globalThis as unknown as BenchGlobal).__bench.pcs) {
      if (pc.connectionState === "closed") continue;
      const stats = [...(await pc.getStats()).values()];
      const s = stats.find((x) => x.type === "inbound-rtp" && x.kind === "video");
      if (!s) continue;
      const sent = stats.find((x) => x.type === "remote-outbound-rtp" && x.kind === "video");
      const n = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : 0);
      return {
        framesDecoded: n("framesDecoded"),
        framesReceived: n("framesReceived"),
        framesDropped: n("framesDropped"),
        packetsLost: n("packetsLost"),
        jitterBufferDelay: n("jitterBufferDelay"),
        jitterBufferEmittedCount: n("jitterBufferEmittedCount"),
        totalDecodeTime: n("totalDecodeTime"),
        freezeCount: n("freezeCount"),
        bytesSent: typeof sent?.bytesSent === "number" ? (sent.bytesSent as number) : Number.NaN,
      };
    }
    return null;
  });
}

/** The WebTransport path's counters: frames painted stand for frames decoded. */
function readWtTotals(page: Page): Promise<InboundTotals | null> {
  return page.evaluate(() => {
    const wt = (globalThis as unknown as BenchGlobal).ballstream?.wt;
    if (!wt) return null;
    return { framesDecoded: wt.framesPainted, framesReceived: wt.unitsReceived, framesDropped: wt.unitsReceived - wt.unitsDecoded, packetsLost: Number.NaN, jitterBufferDelay: Number.NaN, jitterBufferEmittedCount: Number.NaN, totalDecodeTime: Number.NaN, freezeCount: Number.NaN, bytesSent: Number.NaN };
  });
}

const pageNow = (page: Page) => page.evaluate(() => performance.timeOrigin + performance.now());

async function measureWindow(page: Page, ms: number, fps: number, wt: boolean): Promise<ProbeWindow> {
  const readTotals = wt ? readWtTotals : readInboundTotals;
  const before = await readTotals(page);
  const startMs = await pageNow(page);
  await page.evaluate(() => {
    const b = (globalThis as unknown as BenchGlobal).__bench;
    b.frames = [];
    b.recording = true;
  });
  await Bun.sleep(ms);
  const endMs = await pageNow(page);
  const frames = await page.evaluate(() => {
    const b = (globalThis as unknown as BenchGlobal).__bench;
    b.recording = false;
    return b.frames;
  });
  const after = await readTotals(page);
  const ended = await page.evaluate(() => {
    const h = (globalThis as unknown as BenchGlobal).ballstream;
    return h && h.status !== "streaming" ? `${h.status}${h.error ? `: ${h.error}` : ""}` : null;
  });
  // Reports of the last frames arrive a few ms after they are shown.
  await Bun.sleep(300);
  const all = await page.evaluate(() => (globalThis as unknown as BenchGlobal).ballstream?.samples() ?? []);
  const samples = all.filter((s) => s.captureTimeMs >= startMs && s.captureTimeMs < endMs);
  const ids = samples.map((s) => s.frameId).filter((id): id is number => id !== null);
  const d = (k: keyof InboundTotals) => (before && after ? after[k] - before[k] : Number.NaN);
  const byRtp = new Map(samples.map((s) => [s.rtpTimestamp >>> 0, s]));
  const painted = samples.filter((s) => s.presentedAtMs !== null);
  const timings: FrameTiming[] = wt
    ? painted.map((s) => ({ captureMs: s.captureTimeMs, receiveMs: null, presentedMs: s.presentedAtMs, decodedMs: s.decodedAtMs, detectMs: s.detectMs, sentMs: s.sentAtMs, arrivalMs: s.arrivalMs }))
    : frames.map((f) => {
    const s = byRtp.get(f.rtp >>> 0);
    return {
      captureMs: captureTimeFromRtp(f.rtp, f.presentedMs),
      receiveMs: f.receiveMs,
      presentedMs: f.presentedMs,
      decodedMs: s?.decodedAtMs ?? null,
      detectMs: s?.detectMs ?? null,
      sentMs: s?.sentAtMs ?? null,
      arrivalMs: s ? s.arrivalMs : null,
    };
  });
  return {
    seconds: (endMs - startMs) / 1000,
    framesGenerated: Math.max(ids.length > 0 ? Math.max(...ids) - Math.min(...ids) + 1 : 0, Math.round(((endMs - startMs) / 1000) * fps)),
    framesDecoded: d("framesDecoded"),
    framesDropped: d("framesDropped"),
    packetsLost: d("packetsLost"),
    framesPresented: wt ? painted.length : frames.length,
    samples,
    timings,
    jitterBufferMs: (1000 * d("jitterBufferDelay")) / d("jitterBufferEmittedCount"),
    decodeMs: (1000 * d("totalDecodeTime")) / d("framesDecoded"),
    freezes: d("freezeCount"),
    senderKbps: (8 * d("bytesSent")) / (endMs - startMs),
    ended,
    startMs,
  };
}
