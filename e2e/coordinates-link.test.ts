/**
 * The way back from the detection worker, in real Chromium against the one-process system: the worker attaches a
 * WebTransport connection of its own to the page's session and sends the coordinates on it (docs/web.md, "The
 * worker's own connection"); when signaling refuses that connection, the page sends them as before.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { systemPerTest } from "./harness/fixture.ts";
import { metricSum } from "./harness/viewer-scenario.ts";

const lab = systemPerTest();

/** Opens the page and waits until it streams with `reports` error reports back; returns the page. */
async function streamingPage(reports: number): Promise<Page> {
  const page = await lab.browser.newPage();
  await page.goto(lab.system.url);
  const hook = await waitForHook(page, `streaming with ${reports} reports`, (h) => (h.status === "streaming" && h.reportsReceived >= reports) || h.status === "error");
  if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${lab.system.server.output().slice(-3000)}`);
  return page;
}

/** The receiver panel's "coordinates sent by" and the page's event list, as shown. */
async function shown(page: Page): Promise<{ sender: string; events: string }> {
  return { sender: (await page.getByTestId("coordinates-sender").textContent())?.trim() ?? "", events: (await page.locator(".events").textContent()) ?? "" };
}

describe("coordinates from the detection worker's own connection", () => {
  test("the worker attaches and sends; the reports come back on the page's connection; the page counts as one viewer", async () => {
    await lab.start();
    const page = await streamingPage(60);
    const { sender, events } = await shown(page);
    expect(sender).toBe("detection worker");
    expect(events).toContain("detector: the detection worker sends the coordinates on its own connection");
    expect(lab.system.server.output()).toContain("coordinates connection attached");
    const before = (await readHook(page))!.reportsReceived;
    await waitForHook(page, "30 more reports", (h) => h.reportsReceived >= before + 30);
    expect(await metricSum(lab.system.metricsUrls, "ballstream_signaling_active_sessions")).toBe(1); // its worker's connection gave its slot back
    await page.close();
  });

  test("signaling refuses the worker's connection (one session per address): the page sends the coordinates, nothing else changes", async () => {
    await lab.start({ MAX_SESSIONS_PER_IP: "1" });
    const page = await streamingPage(60);
    const { sender, events } = await shown(page);
    expect(sender).toBe("page");
    expect(events).toMatch(/detector: own connection refused \(.*too many sessions from your address \(1\).*\): the page sends the coordinates/);
    const before = (await readHook(page))!.reportsReceived;
    await waitForHook(page, "30 more reports", (h) => h.reportsReceived >= before + 30);
    expect((await readHook(page))!.status).toBe("streaming");
    await page.close();
  });
});
