/**
 * The second video path in real Chromium with real ffmpeg, used as a person uses it: choose "WebTransport" in the
 * page's selector, wait, read the figures. The same H.264 arrives on WebTransport streams, WebCodecs decodes it
 * (avc1.42…), the detector answers with coordinates and signaling's errors come back; "both side by side" plays
 * the two paths of one session at once, each with its own figures, in one process and over NATS.
 */
import { describe, expect, test } from "bun:test";
import { quantile, startOverNats } from "@ballstream/testing";
import { readHook, readSamples, readWtSamples, waitForHook } from "@ballstream/web/hook-reader";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const lab = oneSystemAndChromium({ timeoutMs: 60_000 });

const MIN_REPORTS = 60;

const num = (text: string | null) => Number.parseFloat(text ?? "");

describe("video over WebTransport + WebCodecs in Chromium", () => {
  test("choosing WebTransport in the selector: a new session whose frames WebCodecs decodes, painted, detected and answered", async () => {
    const page = await lab.browser.newPage();
    await page.goto(lab.system.url);
    const first = await waitForHook(page, "streaming over WebRTC", (h) => h.status === "streaming" || h.status === "error");
    expect(first.paths).toEqual({ webrtc: true, webtransport: false, notice: null });
    expect(await page.getByTestId("wt-stage").isVisible()).toBe(false);
    await Promise.all([page.waitForURL(/transport=webtransport/), page.getByTestId("transport-select").selectOption("webtransport")]);
    const hook = await waitForHook(page, `${MIN_REPORTS} WebTransport reports`, (h) => (h.wt?.reportsReceived ?? 0) >= MIN_REPORTS || h.status === "error");
    expect(hook.error).toBeNull();
    expect(hook.sessionId).not.toBe(first.sessionId);
    expect(hook.paths).toEqual({ webrtc: false, webtransport: true, notice: null });
    expect(hook.wt.codec).toMatch(/^avc1\.42/);
    expect(hook.wt.framesPainted).toBeGreaterThan(MIN_REPORTS / 2); // presented frames: the video's frame callbacks may merge two in one refresh
    expect(hook.reportsReceived).toBe(0); // no WebRTC path at all
    expect(hook.inbound.framesDecoded).toBe(0);
    // what the person sees: the canvas, the figures filled in, the decoder line
    expect(await page.getByTestId("wt-stage").isVisible()).toBe(true);
    expect(await page.getByTestId("webrtc-stage").isVisible()).toBe(false);
    await page.waitForTimeout(300);
    expect(num(await page.getByTestId("wt-realtime-error").textContent())).toBeLessThan(50);
    expect(num(await page.getByTestId("wt-g2g").textContent())).toBeGreaterThan(0);
    expect(await page.getByTestId("wt-detail").textContent()).toContain("avc1.42");
    const samples = await readSamples(page); // the WebTransport path is the page's only one: its samples
    const frameErrors = samples.filter((s) => s.found && Number.isFinite(s.frameErrorPx)).map((s) => s.frameErrorPx);
    const g2g = samples.map((s) => s.glassToGlassMs).filter((x): x is number => x !== null);
    console.log(`WebTransport path: ${samples.length} samples, frame-matched p50 ${quantile(frameErrors, 0.5).toFixed(3)} px, g2g p50 ${quantile(g2g, 0.5).toFixed(1)} ms p95 ${quantile(g2g, 0.95).toFixed(1)} ms`);
    expect(quantile(frameErrors, 0.5)).toBeLessThan(1);
    expect(g2g.length).toBeGreaterThan(MIN_REPORTS / 2);
    await page.close();
  }, 90_000);
});

async function bothSideBySide(url: string, where: string): Promise<void> {
  const page = await lab.browser.newPage();
  await page.goto(`${url}?transport=both`);
  const hook = await waitForHook(page, "reports on both paths", (h) => (h.reportsReceived >= MIN_REPORTS && h.inbound.framesDecoded > MIN_REPORTS && (h.wt?.reportsReceived ?? 0) >= MIN_REPORTS) || h.status === "error");
  expect(hook.error).toBeNull();
  expect(hook.paths).toEqual({ webrtc: true, webtransport: true, notice: null });
  expect(hook.inbound.framesDecoded).toBeGreaterThan(MIN_REPORTS);
  expect(hook.wt.framesPainted).toBeGreaterThan(MIN_REPORTS / 2); // presented frames (see above)
  expect(await page.getByTestId("webrtc-stage").isVisible()).toBe(true);
  expect(await page.getByTestId("wt-stage").isVisible()).toBe(true);
  expect(num(await page.getByTestId("realtime-error").textContent())).toBeLessThan(50);
  expect(num(await page.getByTestId("wt-realtime-error").textContent())).toBeLessThan(50);
  const [rtc, wt] = [await readSamples(page), await readWtSamples(page)];
  const shared = new Set(rtc.map((s) => s.frameId));
  expect(wt.filter((s) => shared.has(s.frameId)).length).toBeGreaterThan(MIN_REPORTS / 2); // the same frames, both ways
  const p50 = (xs: Array<number | null>) => quantile(xs.filter((x): x is number => x !== null && Number.isFinite(x)), 0.5);
  console.log(`both (${where}): WebRTC g2g p50 ${p50(rtc.map((s) => s.glassToGlassMs)).toFixed(1)} ms, rt error p50 ${p50(rtc.map((s) => s.realtimeErrorPx)).toFixed(2)} px; WebTransport g2g p50 ${p50(wt.map((s) => s.glassToGlassMs)).toFixed(1)} ms, rt error p50 ${p50(wt.map((s) => s.realtimeErrorPx)).toFixed(2)} px`);
  expect((await readHook(page))?.status).toBe("streaming");
  await page.close();
}

describe("both paths at once", () => {
  test("one process: one session, two pictures, two sets of figures, both answered", () => bothSideBySide(lab.system.url, "one process"), 90_000);

  test("three processes over NATS: the same", async () => {
    const nats = await startOverNats();
    try {
      await bothSideBySide(nats.url, "NATS");
    } finally {
      await nats.cleanup();
    }
  }, 120_000);
});

