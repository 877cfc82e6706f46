/**
 * The whole loop in Firefox ESR 153, driven by puppeteer-core (WebDriver BiDi): Firefox has WebTransport (Mozilla's
 * neqo against our own HTTP/3 layer) and a WebCodecs H.264 decoder, but offline no H.264 for WebRTC. So the page
 * opened as a person opens it falls back to the WebTransport path and says why; the figures fill in; asked for
 * WebRTC by name it shows the clear "no H.264" message and offers the switch; "both" plays WebTransport beside
 * that message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "puppeteer-core";
import { quantile, startOneProcess } from "@ballstream/testing";
import type { RunningSystem } from "@ballstream/testing";
import { readSamples, waitForHook } from "@ballstream/web/hook-reader";
import { launchFirefox } from "./harness/firefox.ts";

const MIN_REPORTS = 45;

let system: RunningSystem | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  [system, browser] = await Promise.all([startOneProcess(), launchFirefox()]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await system?.cleanup();
});

const text = (page: Page, testid: string) => page.$eval(`[data-testid="${testid}"]`, (e) => e.textContent ?? "");
const visible = (page: Page, testid: string) => page.$eval(`[data-testid="${testid}"]`, (e) => (e as HTMLElement).offsetParent !== null);

describe("Firefox ESR", () => {
  test("the page as opened: no H.264 over WebRTC, so it says so and plays the WebTransport path; errors come back", async () => {
    const page = await browser!.newPage();
    await page.goto(system!.url);
    const hook = await waitForHook(page, `${MIN_REPORTS} WebTransport reports`, (h) => (h.wt?.reportsReceived ?? 0) >= MIN_REPORTS || h.status === "error", 60_000);
    expect(hook.error).toBeNull();
    expect(hook.status).toBe("streaming");
    expect(hook.paths?.webrtc).toBe(false);
    expect(hook.paths?.notice).toContain("cannot decode H.264 video over WebRTC");
    expect(hook.wt.codec).toMatch(/^avc1\.42/);
    await Bun.sleep(300);
    expect(await text(page, "transport-notice")).toContain("playing the same H.264 over WebTransport");
    expect(await visible(page, "wt-stage")).toBe(true);
    expect(await visible(page, "webrtc-stage")).toBe(false);
    const rt = Number.parseFloat(await text(page, "wt-realtime-error"));
    expect(rt).toBeGreaterThanOrEqual(0);
    expect(rt).toBeLessThan(50);
    const samples = await readSamples(page);
    const frameErrors = samples.filter((s) => s.found && Number.isFinite(s.frameErrorPx)).map((s) => s.frameErrorPx);
    const g2g = samples.map((s) => s.glassToGlassMs).filter((x): x is number => x !== null);
    console.log(`Firefox WebTransport path: ${samples.length} samples, frame-matched p50 ${quantile(frameErrors, 0.5).toFixed(3)} px, g2g p50 ${quantile(g2g, 0.5).toFixed(1)} ms`);
    expect(quantile(frameErrors, 0.5)).toBeLessThan(1);
    await page.close();
  }, 120_000);

  test("?transport=webrtc: the clear no-H.264 message, and a link to the WebTransport path that works", async () => {
    const page = await browser!.newPage();
    await page.goto(`${system!.url}?transport=webrtc`);
    const hook = await waitForHook(page, "the error", (h) => h.status === "error", 30_000);
    expect(hook.error).toContain("This browser cannot decode H.264 video over WebRTC");
    await Bun.sleep(300);
    expect(await text(page, "error")).toContain("cannot decode H.264 video over WebRTC");
    await Promise.all([page.waitForNavigation(), page.click('[data-testid="use-webtransport"]')]);
    expect(page.url()).toContain("transport=webtransport");
    const after = await waitForHook(page, "WebTransport reports", (h) => (h.wt?.reportsReceived ?? 0) >= 10 || h.status === "error", 60_000);
    expect(after.error).toBeNull();
    await page.close();
  }, 120_000);

  test("?transport=both: the WebTransport picture plays beside the WebRTC stage's no-H.264 message", async () => {
    const page = await browser!.newPage();
    await page.goto(`${system!.url}?transport=both`);
    const hook = await waitForHook(page, "WebTransport reports", (h) => (h.wt?.reportsReceived ?? 0) >= 10 || h.status === "error", 60_000);
    expect(hook.error).toBeNull();
    await Bun.sleep(300);
    expect(await text(page, "webrtc-stage-message")).toContain("cannot decode H.264 video over WebRTC");
    expect(await visible(page, "wt-stage")).toBe(true);
    await page.close();
  }, 120_000);
});
