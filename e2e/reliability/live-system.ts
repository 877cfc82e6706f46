/**
 * The stage of the attack tests: the one-process deployment with one healthy Chromium viewer streaming, and the
 * check every such test ends with, that the server still serves a real browser.
 */
import { expect } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { BallstreamHook } from "@ballstream/web/hook";
import type { Sample } from "@ballstream/web/samples";
import { launchChromium, startOneProcess } from "@ballstream/testing";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import type { RunningSystem } from "@ballstream/testing";

/** A running system, its browser and its healthy viewer. */
export interface LiveSystem {
  readonly system: RunningSystem;
  readonly browser: Browser;
  /** The viewer that must keep playing whatever the test does. */
  readonly healthy: Page;
  readonly metricsUrl: string;
  /** UDP port of the WebTransport server. */
  readonly wtPort: number;
  /** The page origin WebTransport sessions are allowed from. */
  readonly origin: string;
}

/** Starts the one-process system with `env` and Chromium, and waits until a healthy viewer streams with reports. */
export async function startLiveSystem(env: Record<string, string>): Promise<LiveSystem> {
  const [system, browser] = await Promise.all([startOneProcess(env), launchChromium()]);
  const wtPort = ((await (await fetch(new URL("config.json", system.url))).json()) as { wtPort: number }).wtPort;
  const healthy = await (await browser.newContext()).newPage();
  await healthy.goto(system.url);
  await waitForHook(healthy, "streaming", (h) => h.status === "streaming" && h.reportsReceived > 0, 30_000);
  return { system, browser, healthy, metricsUrl: system.metricsUrls[0]!, wtPort, origin: new URL(system.url).origin };
}

/** The server still serves a real browser: the healthy viewer decodes 20 more frames, gets 20 more reports, frame errors ≤ 2 px. */
export async function healthyStillPlays(healthy: Page): Promise<void> {
  const before = (await readHook(healthy))!;
  const after = await waitForHook(healthy, "more frames and reports", (h) => h.inbound.framesDecoded >= before.inbound.framesDecoded + 20 && h.reportsReceived >= before.reportsReceived + 20, 20_000);
  expect(after.status).toBe("streaming");
  const samples = await healthy.evaluate(() => (globalThis as unknown as { ballstream: BallstreamHook }).ballstream.samples().slice(-200));
  const errors = samples.filter((s: Sample) => s.found && s.frameId !== null && Number.isFinite(s.frameErrorPx)).map((s: Sample) => s.frameErrorPx);
  expect(errors.length).toBeGreaterThan(0);
  expect(Math.max(...errors)).toBeLessThanOrEqual(2);
}
