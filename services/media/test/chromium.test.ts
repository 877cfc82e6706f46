/**
 * The media path end to end in real headless Chromium: generator frames → media (werift + ffmpeg/libx264) → the
 * browser decodes H.264 over WebRTC on loopback; the ball found in each decoded frame (named by its RTP timestamp)
 * must be where the truth of that very frame says.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MemoryBus, createLogger, createRegistry, requestJson } from "@ballstream/runtime";
import { parseSettings, subjects } from "@ballstream/protocol";
import { startGenerator } from "@ballstream/generator";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "@ballstream/testing";
import { type MediaService, startMedia } from "../src/mod.ts";
import { type Harness, startHarness } from "./harness.ts";
import type { PageStats } from "./page/receiver.ts";

const log = createLogger("media-test", { level: process.env.LOG_LEVEL ?? "warn" });
const bus = new MemoryBus(log);
const registry = createRegistry();
let generator: { stop(): Promise<void> };
let media: MediaService;
let harness: Harness;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  generator = await startGenerator({ bus, log, registry });
  media = await startMedia({ bus, log, registry, config: { iceInterfaceAddress: "127.0.0.1", iceAdvertiseAddresses: ["127.0.0.1"] } });
  harness = await startHarness(bus, { fps: 30 });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(harness.url);
  await page.waitForFunction(() => window.receiver !== undefined || window.receiverError !== undefined, undefined, { timeout: 30_000 });
  expect(await page.evaluate(() => window.receiverError ?? null)).toBeNull();
});

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
  await media?.stop();
  await generator?.stop();
  await bus.drain();
});

const stats = () => page.evaluate(() => window.receiver!.stats()) as Promise<PageStats | null>;

test("Chromium decodes the H.264 stream: ≥ 90 % of frames over 10 s, no loss, ball within 1 px of its frame's truth", async () => {
  await page.waitForFunction(() => window.receiver!.detections.length > 0, undefined, { timeout: 30_000 });
  const before = (await stats())!;
  const truthsBefore = harness.truths.size;
  await Bun.sleep(10_000);
  const after = (await stats())!;
  const sent = harness.truths.size - truthsBefore;
  const decoded = after.framesDecoded - before.framesDecoded;

  expect(after.mimeType).toBe("video/H264");
  expect(after.packetsLost).toBe(0);
  expect(sent).toBeGreaterThan(200);
  expect(decoded / sent).toBeGreaterThanOrEqual(0.9);

  const detections = await page.evaluate(() => window.receiver!.detections);
  const errors = detections.flatMap((d) => {
    const truth = harness.truths.get(d.rtp);
    return truth === undefined || !d.found ? [] : [Math.hypot(d.x - truth.x, d.y - truth.y)];
  });
  console.log(
    `sent ${sent}, decoded ${decoded}, lost ${after.packetsLost}, nacks ${after.nackCount}, plis ${after.pliCount}; ` +
      `${errors.length}/${detections.length} detections matched, max error ${Math.max(...errors).toFixed(3)} px`,
  );
  expect(errors.length).toBeGreaterThan(0.9 * detections.length);
  expect(Math.max(...errors)).toBeLessThanOrEqual(1);
}, 60_000);

test("a live fps change 30 → 120 → 1: Chromium decodes one keyframe per 2 s and its bytes per second stay within 1.5×", async () => {
  const phases = [
    { fps: 30, seconds: 6 },
    { fps: 120, seconds: 6 },
    { fps: 1, seconds: 8 },
  ];
  const figures: Array<{ fps: number; keyframes: number; bytesPerSecond: number }> = [];
  for (const { fps, seconds } of phases) {
    if (fps !== 30) await requestJson(bus, subjects.sessionControl(harness.sessionIds[0]!), { type: "control", fps }, parseSettings, 5000);
    const [before, t0] = [(await stats())!, performance.now()];
    await Bun.sleep(seconds * 1000);
    const [after, t1] = [(await stats())!, performance.now()];
    figures.push({ fps, keyframes: after.keyFramesDecoded - before.keyFramesDecoded, bytesPerSecond: Math.round((after.bytesReceived - before.bytesReceived) / ((t1 - t0) / 1000)) });
  }
  console.log(`fps change in Chromium (keyFramesDecoded, bytesReceived/s): ${JSON.stringify(figures)}`);
  for (const [k, f] of figures.entries()) {
    const seconds = phases[k]!.seconds;
    // One every KEYFRAME_INTERVAL_S (2 s), plus the fresh encoder's first frame after a change.
    expect(f.keyframes).toBeGreaterThanOrEqual(Math.floor(seconds / 2));
    expect(f.keyframes).toBeLessThanOrEqual(Math.ceil(seconds / 2) + 1);
    expect(f.bytesPerSecond).toBeLessThanOrEqual(1.5 * figures[0]!.bytesPerSecond);
  }
}, 60_000);

test("closing the session releases the peer connection and the encoder", async () => {
  expect(media.sessionIds().length).toBe(1);
  await harness.stop();
  for (let i = 0; i < 50 && media.sessionIds().length > 0; i++) await Bun.sleep(100);
  expect(media.sessionIds()).toEqual([]);
}, 30_000);
