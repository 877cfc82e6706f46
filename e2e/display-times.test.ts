/**
 * The page's glass-to-glass figures in real Chromium against the one-process system, as a person reads them: to the
 * compositor (rVFC `presentationTime`), to the browser's expected display time (`expectedDisplayTime`), and by the
 * browser's own capture time (abs-capture-time, which the page's offer asks for) beside ours (the RTP timestamp /
 * the report's capture time) for the same frame. docs/web.md "Glass-to-glass: three clocks".
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { readHook, readSamples, waitForHook } from "@ballstream/web/hook-reader";
import { ABS_CAPTURE_TIME_URI } from "@ballstream/web/webrtc";
import { oneSystemAndChromium } from "./harness/fixture.ts";
import { keepPeerConnections, readIceRoute } from "./harness/peer-connections.ts";

/** Chromium gives abs-capture-time in whole ms (rounded): the browser's capture time is within 0.5 ms of ours. */
const AGREEMENT_MS = 0.5;
/** The page writes these figures with two decimals: each text may be 0.005 ms off its value. */
const TEXT_ROUNDING_MS = 0.01;
/** Headless Chromium's compositor frame interval (60 Hz), on which `expectedDisplayTime` lies. */
const BEGIN_FRAME_MS = 1000 / 60;

let page: Page;

const lab = oneSystemAndChromium({
  timeoutMs: 60_000,
  setup: async () => {
    page = await lab.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript(keepPeerConnections);
    await page.goto(lab.system.url);
    const hook = await waitForHook(page, "streaming with the browser's capture times", (h) => (h.status === "streaming" && h.reportsReceived > 150 && h.browserCapture !== null) || h.status === "error");
    if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${lab.system.server.output().slice(-3000)}`);
  },
});

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

describe("glass-to-glass: compositor, expected display, the browser's capture time", () => {
  test("the page's offer asks for abs-capture-time and media's answer takes it", async () => {
    const { localSdp, remoteSdp } = await readIceRoute(page);
    const id = (sdp: string | null) => sdp?.match(new RegExp(`^a=extmap:(\\d+) ${ABS_CAPTURE_TIME_URI}\\r?$`, "m"))?.[1];
    expect(id(localSdp)).toBeDefined();
    expect(id(remoteSdp)).toBe(id(localSdp));
  });

  test("the page shows all three, and the browser's capture time and ours give the same figure within 0.5 ms", async () => {
    // one read of all texts, so that no 10 Hz refresh falls between them
    const texts = await page.evaluate(() =>
      Object.fromEntries(["g2g", "g2g-display", "g2g-browser", "g2g-ours"].map((id) => [id, document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ""])),
    );
    console.log(`[display-times] page: compositor ${texts.g2g}, expected display ${texts["g2g-display"]}, browser's capture time ${texts["g2g-browser"]} (${texts["g2g-ours"]})`);
    const ms = (text: string | undefined, digits: number) => {
      const m = text?.match(new RegExp(`^\\s*(-?\\d+\\.\\d{${digits}})\\s*ms\\s*$`));
      if (!m) throw new Error(`not a figure with ${digits} decimals: "${text}"`);
      return Number(m[1]);
    };
    expect(ms(texts.g2g, 1)).toBeGreaterThan(0);
    expect(Number.isFinite(ms(texts["g2g-display"], 1))).toBe(true); // may be below the compositor's (below)
    const browser = ms(texts["g2g-browser"], 2);
    const ours = ms(texts["g2g-ours"]?.replace(/^ours /, ""), 2);
    expect(browser).toBeGreaterThan(0);
    expect(Math.abs(browser - ours)).toBeLessThanOrEqual(AGREEMENT_MS + TEXT_ROUNDING_MS);
    const { browserCapture } = (await readHook(page))!;
    expect(Math.abs(browserCapture!.browserMs - browserCapture!.oursMs)).toBeLessThanOrEqual(AGREEMENT_MS + 1e-6);
  });

  test("every sample: abs-capture-time within 0.5 ms of our capture time; no rVFC captureTime; expected display on the 60 Hz frame grid", async () => {
    const samples = (await readSamples(page)).filter((s) => s.glassToGlassMs !== null);
    expect(samples.length).toBeGreaterThan(100);
    const withAbs = samples.filter((s) => s.absCaptureMs !== null);
    // the receiver's sources hold only the newest frame: a frame whose callback came after the next frame arrived has none
    expect(withAbs.length).toBeGreaterThan(0.7 * samples.length);
    const offsets = withAbs.map((s) => s.absCaptureMs! - s.captureTimeMs);
    for (const d of offsets) expect(Math.abs(d)).toBeLessThanOrEqual(AGREEMENT_MS + 1e-6);
    for (const s of withAbs) expect(s.glassToGlassBrowserMs! - s.glassToGlassMs!).toBeCloseTo(s.captureTimeMs - s.absCaptureMs!, 6);
    // Chromium 156 derives rVFC captureTime from RTCP sender reports only once it knows the round trip, which a
    // receive-only peer learns from the sender's DLRR: werift sends none, so it never comes (docs/web.md)
    expect(samples.filter((s) => s.rvfcCaptureMs !== null).length).toBe(0);

    expect(samples.every((s) => s.expectedDisplayMs !== null && s.glassToGlassExpectedMs === s.expectedDisplayMs - s.captureTimeMs)).toBe(true);
    // expectedDisplayTime is the end of the compositor's latest frame interval when the frame was handed over
    // (headless: a 60 Hz grid), not a forecast of this frame's display: neighbours differ by whole intervals
    const steps = samples.slice(1).map((s, i) => (s.expectedDisplayMs! - samples[i]!.expectedDisplayMs!) / BEGIN_FRAME_MS);
    const onGrid = steps.filter((k) => Math.abs(k - Math.round(k)) < 0.3 / BEGIN_FRAME_MS).length;
    expect(onGrid).toBeGreaterThanOrEqual(0.9 * steps.length); // the compositor's first frames may start a new phase
    const ahead = samples.map((s) => s.expectedDisplayMs! - s.presentedAtMs!);
    const g2g = (f: (s: (typeof samples)[number]) => number | null) => {
      const v = samples.map(f).filter((x): x is number => x !== null);
      return `${quantile(v, 0.5).toFixed(2)} / ${quantile(v, 0.95).toFixed(2)}`;
    };
    console.log(
      `[display-times] ${samples.length} samples, p50 / p95 ms: g2g compositor ${g2g((s) => s.glassToGlassMs)}, expected display ${g2g((s) => s.glassToGlassExpectedMs)}, ` +
        `browser's capture time ${g2g((s) => s.glassToGlassBrowserMs)}; abs-capture − ours min ${Math.min(...offsets).toFixed(3)} max ${Math.max(...offsets).toFixed(3)} ms ` +
        `(${withAbs.length} samples); ${onGrid} of ${steps.length} steps on the 60 Hz grid; expected display − presentation min ${Math.min(...ahead).toFixed(1)} p50 ${quantile(ahead, 0.5).toFixed(1)} max ${Math.max(...ahead).toFixed(1)} ms`,
    );
  });
});
