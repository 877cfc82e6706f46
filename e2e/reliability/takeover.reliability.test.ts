/**
 * Issue 18's generator takeover, end to end over NATS with real Chromium: four viewers start on the one generator,
 * a second replica joins, the first is SIGKILLed. Every viewer's video resumes without a reload (signaling asks the
 * survivor to continue each session from its last truth); the truth after the takeover is where the ball would have
 * been (jump ≤ speed × gap + 1 px); the gap per viewer is printed.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { readHook, readSamples, waitForHook } from "@ballstream/web/hook-reader";
import { type NatsSystem, launchChromium, quantile, startOverNats } from "@ballstream/testing";
import { metricSum } from "../harness/viewer-scenario.ts";

const VIEWERS = 4;
const SPEED = 320;
let system: NatsSystem;
let browser: Browser;

beforeAll(async () => {
  [system, browser] = await Promise.all([startOverNats({ TRUTH_TIMEOUT_MS: "8000", VIDEO_TIMEOUT_MS: "10000" }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await system?.cleanup();
});

async function viewer(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${system.url}?speed=${SPEED}`);
  const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 10) || h.status === "error" || h.status === "closed", 30_000);
  if (hook.status !== "streaming") throw new Error(`viewer failed: ${hook.error}`);
  return page;
}

test(`SIGKILL the generator with ${VIEWERS} viewers: a second replica takes every session over, the ball continues its trajectory`, async () => {
  const pages: Page[] = [];
  for (let i = 0; i < VIEWERS; i++) pages.push(await viewer());
  const first = system.others[0]!;
  await system.respawn("generator"); // the survivor: a replica with no sessions yet
  const killedAt = Date.now();
  await first.stop("SIGKILL");
  const resumed = await Promise.all(
    pages.map(async (p) => {
      const before = (await readHook(p))!.framesDetected;
      return waitForHook(p, "frames after the takeover", (h) => h.framesDetected > before + 30 || h.status !== "streaming", 20_000);
    }),
  );
  const takeovers = await metricSum(system.metricsUrls, 'ballstream_signaling_generator_takeovers_total{outcome="ok"}');
  // Per viewer: the longest stretch between consecutive samples' capture times around the kill, and the truth's jump across it.
  const figures = await Promise.all(
    pages.map(async (p) => {
      const samples = (await readSamples(p)).filter((s) => s.frameId !== null && Number.isFinite(s.frameTruthX));
      let gap = { ms: 0, jumpPx: 0, idsOn: false };
      for (let i = 1; i < samples.length; i++) {
        const [a, b] = [samples[i - 1]!, samples[i]!];
        const ms = b.captureTimeMs - a.captureTimeMs;
        // frame ids go on across it (a fresh session would start again at 0)
        if (ms > gap.ms && b.captureTimeMs > killedAt - 2000) gap = { ms, jumpPx: Math.hypot(b.frameTruthX - a.frameTruthX, b.frameTruthY - a.frameTruthY), idsOn: b.frameId! > a.frameId! };
      }
      return gap;
    }),
  );
  const gaps = figures.map((f) => f.ms);
  console.log(
    `generator takeover: ${takeovers} sessions taken over; gap between truths p50 ${quantile(gaps, 0.5).toFixed(0)} ms, max ${Math.max(...gaps).toFixed(0)} ms; ` +
      `jumps ${figures.map((f) => `${f.jumpPx.toFixed(1)} px (allowed ${((SPEED * f.ms) / 1000 + 1).toFixed(1)})`).join(", ")}`,
  );
  expect(takeovers).toBe(VIEWERS);
  for (const h of resumed) expect(h.status).toBe("streaming");
  for (const f of figures) {
    expect(f.ms).toBeGreaterThan(0);
    expect(f.jumpPx).toBeLessThanOrEqual((SPEED * f.ms) / 1000 + 1);
    expect(f.idsOn).toBe(true);
  }
}, 180_000);
