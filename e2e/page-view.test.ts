/**
 * The page as a person sees and uses it, in real Chromium against the one-process system: the figures, the
 * receiver panel (and what the receiver sees: bitrate, loss, feedback, freezes, RTT), the overlay's ring and cross on
 * the ball, the chart, both downloads, Stop, and a bad URL setting.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { SAMPLE_COLUMNS } from "@ballstream/web/samples";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const lab = oneSystemAndChromium({
  timeoutMs: 60_000,
  setup: async () => {
    page = await open();
  },
});

let page: Page;

/** The text of the receiver panel's row `name`. */
const row = (name: string, on = page) => on.locator(`dt:text-is('${name}') + dd`).innerText();

/** Clicks the download button `name` and returns the file's suggested name and text. */
async function download(name: string): Promise<{ filename: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name }).click()]);
  return { filename: file.suggestedFilename(), text: await Bun.file((await file.path())!).text() };
}

async function open(query = "", withoutProcessor = false): Promise<Page> {
  const p = await lab.browser.newPage({ viewport: { width: 1280, height: 900 } });
  if (withoutProcessor) await p.addInitScript(() => delete (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor);
  await p.goto(`${lab.system.url}${query}`);
  const hook = await waitForHook(p, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 30) || h.status === "error");
  if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${lab.system.server.output().slice(-3000)}`);
  return p;
}

describe("the page, as a person sees it", () => {
  test("status, session id, the live figures and the receiver panel", async () => {
    const hook = (await readHook(page))!;
    expect(await page.getByTestId("status").innerText()).toBe("streaming");
    expect(await page.locator("code").innerText()).toBe(`session ${hook.sessionId}`);
    for (const id of ["realtime-error", "frame-error", "latency"]) expect(await page.getByTestId(id).innerText()).toMatch(/^\d+\.\d+\s*(px|ms)$/);
    expect(await page.getByTestId("codec").innerText()).toMatch(/^H264/);
    expect(await row("settings")).toBe("640×480 @ 30 fps, 320 px/s");
    expect(await row("detection path")).toBe("worker-videoframe");
    expect(Number(await row("receive fps"))).toBeGreaterThan(20);
    const [detected, sent] = (await row("frames detected / sent")).split(" / ").map(Number);
    expect(detected).toBeGreaterThan(10);
    expect(sent).toBeGreaterThan(10);
    expect(Number(await row("reports received"))).toBeGreaterThan(10); // the panel shows a 10 Hz snapshot
  });

  test("the ring sits on the ball's true centre and the cross on the detected one, at the video's scale", async () => {
    const marks = await page.evaluate(async () => {
      await new Promise(requestAnimationFrame);
      const rect = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
      const centre = (r: DOMRect) => [r.left + r.width / 2, r.top + r.height / 2];
      const video = rect("video");
      return { video: [video.left, video.top, video.width], ring: centre(rect(".ring")), ringWidth: rect(".ring").width, cross: centre(rect(".cross")) };
    });
    const [left, top, width] = marks.video as [number, number, number];
    const scale = width / 640;
    const [rx, ry] = marks.ring as [number, number];
    const [cx, cy] = marks.cross as [number, number];
    // both marks come from one report: the detection is within a pixel of that frame's truth
    expect(Math.hypot(rx - cx, ry - cy)).toBeLessThan(3 * scale);
    expect(Math.abs(marks.ringWidth - 2 * 28 * scale)).toBeLessThan(2);
    const inside = (x: number, y: number) => x > left && x < left + width && y > top && y < top + 480 * scale;
    expect(inside(rx, ry)).toBe(true);
  });

  test("the chart draws the last 20 s", async () => {
    expect(await page.getByText(/^last 20 s · axis top \d+/).count()).toBe(1);
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector("canvas")!;
      const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let lit = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) lit++;
      return lit;
    });
    expect(drawn).toBeGreaterThan(500);
  });

  test("both downloads hold the session's samples", async () => {
    const hook = (await readHook(page))!;
    const text = async (name: string) => {
      const { filename, text } = await download(name);
      expect(filename).toBe(`ballstream-${hook.sessionId}.${name === "JSON" ? "json" : "csv"}`);
      return text;
    };
    const csv = (await text("Download samples (CSV)")).trim().split("\n");
    expect(csv[0]).toBe(SAMPLE_COLUMNS.join(","));
    expect(csv.length).toBeGreaterThan(30);
    const json = JSON.parse(await text("JSON")) as { sessionId: string; settings: { fps: number }; samples: unknown[] };
    expect([json.sessionId, json.settings.fps, json.samples.length > 30]).toEqual([hook.sessionId!, 30, true]);
  });

  test("the receiver panel shows what the receiver sees on loopback: a bitrate, no loss, no freezes, an RTT, the REMB estimate; the CSV carries it", async () => {
    const bitrateText = /^\d+(\.\d+)? (kbit|Mbit)\/s$/;
    // the bitrate is the second between two getStats polls; Chromium reports its receive-side estimate (what its REMB
    // carries) some 5 s into the stream: until then the row says "not reported (yet)"
    await page.locator("[data-testid=estimate]", { hasText: bitrateText }).waitFor({ timeout: 15_000 });
    const bitrate = await row("received bitrate");
    const kbps = Number.parseFloat(bitrate) * (bitrate.endsWith("Mbit/s") ? 1000 : 1);
    console.log(`[page-view] receiver panel: ${bitrate}; RTT ${await row("RTT")}; estimate ${await row("bandwidth estimate (REMB)")}`);
    expect(kbps).toBeGreaterThan(0);
    expect(await row("packets lost")).toBe("0");
    expect(await row("loss")).toBe("0.00 % (last s 0.00 %)");
    expect(await row("freezes")).toBe("0 (0.0 s)");
    expect(await row("pauses")).toBe("0 (0.0 s)");
    expect(await row("NACKs / PLIs / FIRs sent")).toMatch(/^\d+ \/ \d+ \/ \d+$/);
    expect(await row("jitter")).toMatch(/^\d+\.\d ms$/);
    expect(await row("RTT")).toMatch(/^\d+\.\d ms \(ICE\)/);
    expect(await row("received bitrate")).toMatch(bitrateText);
    const { inbound } = (await readHook(page))!;
    expect([inbound.bitrateKbps! > 0, inbound.lossPct, inbound.freezeCount, Number.isFinite(inbound.rttMs), inbound.estimateKbps! > 0]).toEqual([true, 0, 0, true, true]);

    const [header, ...rows] = (await download("Download samples (CSV)")).text.trim().split("\n");
    const columns = header!.split(",");
    for (const c of ["rxBitrateKbps", "rxLossPct", "rxNackCount", "rxFreezeCount", "rxFreezesDurationMs", "rxRttMs", "rxEstimateKbps"]) expect(columns).toContain(c);
    const last = rows.at(-1)!.split(",");
    const cell = (c: string) => last[columns.indexOf(c)];
    expect(Number(cell("rxBitrateKbps"))).toBeGreaterThan(0);
    // the newest samples may be of frames decoded just before the poll that first had the estimate
    const estimates = rows.map((r) => r.split(",")[columns.indexOf("rxEstimateKbps")]).filter((v) => v !== "");
    expect(estimates.length).toBeGreaterThan(0);
    expect(estimates.every((v) => Number(v) > 0)).toBe(true);
    expect([cell("rxLossPct"), cell("rxFreezeCount"), cell("rxFreezesDurationMs")]).toEqual(["0", "0", "0"]);
    expect(Number(cell("rxRttMs"))).toBeGreaterThanOrEqual(0);
    expect(cell("rxRttMs")).not.toBe("");
  }, 30_000);

  test("Stop ends the session: the banner says so, the buttons are off, the video placeholder is back", async () => {
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForHook(page, "closed", (h) => h.status === "closed", 5000);
    await page.getByText("Session ended: stopped by the viewer. Reload to start a new one.").waitFor({ timeout: 2000 });
    expect(await page.getByTestId("status").innerText()).toBe("closed");
    expect(await page.getByRole("button", { name: "Apply" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Stop" }).isDisabled()).toBe(true);
    expect(await page.getByText("No video").count()).toBe(1);
  });

  test("a bad URL setting is reported and ignored; the session plays with the defaults", async () => {
    const p = await open("?fps=abc&speed=200");
    expect(await p.getByRole("alert").innerText()).toMatch(/^Ignoring the URL's settings: .*fps/);
    expect(await row("settings", p)).toBe("640×480 @ 30 fps, 320 px/s");
    expect(await p.getByLabel("fps").inputValue()).toBe("30");
    await p.close();
  });

  test("without MediaStreamTrackProcessor (as in Firefox) the page detects on the main thread and is measured the same way", async () => {
    const p = await open("", true);
    expect(await row("detection path", p)).toBe("main-thread-canvas");
    const errors = await p.evaluate(() =>
      (globalThis as unknown as { ballstream: { samples(): { found: boolean; frameErrorPx: number }[] } }).ballstream
        .samples()
        .filter((s) => s.found && Number.isFinite(s.frameErrorPx))
        .map((s) => s.frameErrorPx)
        .sort((a, b) => a - b),
    );
    expect(errors.length).toBeGreaterThan(20);
    // the canvas may hold a frame one newer than the metadata names: at most one frame of motion (320 px/s, 30 fps)
    expect(errors[Math.floor(errors.length / 2)]!).toBeLessThan(11);
    await p.close();
  });
});
