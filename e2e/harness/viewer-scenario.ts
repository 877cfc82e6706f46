/**
 * The end-to-end scenario both deployment modes must pass, as one `describe` block: a page connects over
 * WebTransport and plays H.264, a second tab gets its own session, the frames decode, the detected centres match
 * the truth, both errors arrive and are shown, and SIGTERM ends the server cleanly with the tabs open (they say
 * why and that they are reconnecting).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SESSION_ID_PATTERN } from "@ballstream/protocol";
import { type RunningSystem, quantile, launchChromium } from "@ballstream/testing";
import type { Browser, Page } from "playwright-core";
import type { Sample } from "@ballstream/web/samples";
import type { BallstreamHook } from "@ballstream/web/hook";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";

/** How long frame decoding is measured. */
const MEASURE_MS = 10_000;
/** Share of the expected frames that must be decoded. */
const MIN_DECODED_SHARE = 0.8;
/** Largest distance from the detected centre to the frame's truth. */
const MAX_FRAME_ERROR_PX = 2;

/** Frames decoded by a page over about `ms`, measured between two refreshes of its stats. */
async function decodedOver(page: Page, ms: number): Promise<{ frames: number; seconds: number }> {
  const atRefresh = async () => {
    const before = (await readHook(page))?.inbound.framesDecoded ?? 0;
    for (let i = 0; i < 40; i++) {
      const now = (await readHook(page))?.inbound.framesDecoded ?? 0;
      if (now !== before) return { frames: now, at: performance.now() };
      await Bun.sleep(50);
    }
    return { frames: before, at: performance.now() };
  };
  const start = await atRefresh();
  await Bun.sleep(ms);
  const end = await atRefresh();
  return { frames: end.frames - start.frames, seconds: (end.at - start.at) / 1000 };
}

/** The page's samples, copied out. */
function samples(page: Page): Promise<Sample[]> {
  return page.evaluate(() => (globalThis as unknown as { ballstream: BallstreamHook }).ballstream.samples());
}

/** The sum of a metric's samples (all label sets) across every endpoint. */
export async function metricSum(urls: readonly string[], name: string): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/** Registers the scenario's tests for one deployment mode. */
export function describeViewerScenario(mode: string, start: () => Promise<RunningSystem>): void {
  describe(`end to end, ${mode}`, () => {
    let system: RunningSystem | undefined;
    let browser: Browser | undefined;
    const tabs: Page[] = [];
    const consoleLines: string[] = [];

    const open = async (): Promise<Page> => {
      const context = browser!.contexts()[0] ?? (await browser!.newContext());
      const page = await context.newPage();
      page.on("console", (m) => void consoleLines.push(`[tab ${tabs.length + 1}] ${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => void consoleLines.push(`[tab ${tabs.length + 1}] pageerror: ${e.message}`));
      await page.goto(system!.url);
      tabs.push(page);
      return page;
    };
    const diagnostics = () =>
      [`--- browser console\n${consoleLines.slice(-40).join("\n")}`, ...[system?.server, ...(system?.others ?? [])].map((p) => p && `--- ${p.name}\n${p.output().slice(-3000)}`)].join("\n");
    const streaming = (page: Page) =>
      waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 0 && h.inbound.codec !== null) || h.status === "error").then((h) => {
        if (h.status === "error") throw new Error(`page failed: ${h.error}\n${diagnostics()}`);
        return h;
      });

    beforeAll(async () => {
      [system, browser] = await Promise.all([start(), launchChromium()]);
      await browser.newContext();
    });

    afterAll(async () => {
      await browser?.close();
      await system?.cleanup();
    });

    test("the page connects over WebTransport, gets its session and plays H.264", async () => {
      const hook = await streaming(await open());
      expect(hook.sessionId).toMatch(SESSION_ID_PATTERN);
      expect(hook.inbound.codec ?? "").toMatch(/^H264/i);
      expect(hook.settings?.fps).toBeGreaterThan(0);
    });

    test("a second tab gets its own session at the same time", async () => {
      const second = await streaming(await open());
      const first = await readHook(tabs[0]!);
      expect(first?.status).toBe("streaming");
      expect(second.sessionId).toMatch(SESSION_ID_PATTERN);
      expect(second.sessionId).not.toBe(first?.sessionId);
    });

    test(`both tabs decode at least ${MIN_DECODED_SHARE * 100} % of the expected frames over ${MEASURE_MS / 1000} s`, async () => {
      const measured = await Promise.all(tabs.map((t) => decodedOver(t, MEASURE_MS)));
      for (const [i, m] of measured.entries()) {
        const fps = (await readHook(tabs[i]!))?.settings?.fps ?? 0;
        const expected = fps * m.seconds;
        console.log(`[${mode}] tab ${i + 1}: ${m.frames} frames decoded in ${m.seconds.toFixed(2)} s, expected ${expected.toFixed(0)} (${((100 * m.frames) / expected).toFixed(1)} %)`);
        expect(m.frames).toBeGreaterThanOrEqual(MIN_DECODED_SHARE * expected);
      }
    });

    test(`detected centres are within ${MAX_FRAME_ERROR_PX} px of the frame truth`, async () => {
      for (const [i, tab] of tabs.entries()) {
        const matched = (await samples(tab)).filter((s) => s.found && s.frameId !== null && Number.isFinite(s.frameErrorPx));
        const errors = matched.map((s) => s.frameErrorPx);
        const realtime = matched.map((s) => s.realtimeErrorPx);
        const latency = matched.map((s) => s.latencyMs);
        console.log(
          `[${mode}] tab ${i + 1}: ${matched.length} matched samples; frame error median ${quantile(errors, 0.5).toFixed(3)} / max ${Math.max(...errors).toFixed(3)} px; ` +
            `real-time error median ${quantile(realtime, 0.5).toFixed(1)} px; latency median ${quantile(latency, 0.5).toFixed(1)} ms`,
        );
        expect(matched.length).toBeGreaterThan(100);
        expect(Math.max(...errors)).toBeLessThanOrEqual(MAX_FRAME_ERROR_PX);
      }
    });

    test("real-time and frame-matched errors arrive and are shown", async () => {
      for (const tab of tabs) {
        const { lastReport } = (await readHook(tab))!;
        expect(lastReport?.frameMatched).toBe(true);
        expect(Number.isFinite(lastReport?.realtimeErrorPx)).toBe(true);
        expect(Number.isFinite(lastReport?.frameErrorPx)).toBe(true);
        for (const id of ["realtime-error", "frame-error", "latency"]) {
          expect(await tab.getByTestId(id).innerText()).toMatch(/\d/);
        }
      }
    });

    test("closing a tab ends its session everywhere: signaling, generator worker, media peer connection", async () => {
      const gauges = ["ballstream_signaling_active_sessions", "ballstream_generator_active_sessions", "ballstream_media_active_peers"];
      const read = () => Promise.all(gauges.map((g) => metricSum(system!.metricsUrls, g)));
      expect(await read()).toEqual([2, 2, 2]);
      await tabs.pop()!.close();
      let now = await read();
      for (let i = 0; i < 100 && now.some((v) => v !== 1); i++) {
        await Bun.sleep(100);
        now = await read();
      }
      expect(now).toEqual([1, 1, 1]);
      expect((await readHook(tabs[0]!))?.status).toBe("streaming");
    });

    test("SIGTERM ends the server cleanly with the tabs open, and the tabs are told why (and that they will reconnect)", async () => {
      const { server, others } = system!;
      expect(await server.stop("SIGTERM")).toBe(0);
      for (const tab of tabs) {
        const hook = await waitForHook(tab, "closed by the server", (h) => h.status !== "streaming", 10_000);
        expect([hook.status, hook.reconnect?.since ?? ""]).toEqual(["reconnecting", expect.stringContaining("shut down")]);
      }
      for (const p of others) expect({ name: p.name, code: await p.stop("SIGTERM") }).toEqual({ name: p.name, code: 0 });
    });
  });
}
