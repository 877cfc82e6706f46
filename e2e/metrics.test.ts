/**
 * Must-show for observability: during a real browser session (headless Chromium, the built page, WebTransport,
 * WebRTC with real ffmpeg), `GET /metrics` shows the latency and error histograms moving, the generator and media
 * counters rising, and no session id anywhere in the exposition. All three services run in this process on the
 * in-process bus (the embedded `bun start` shape), so signaling's `/metrics` (its own listener, not the page's
 * port) carries every service's metrics.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { startGenerator } from "@ballstream/generator";
import { startMedia } from "@ballstream/media";
import { startSignaling } from "@ballstream/signaling";
import { MemoryBus, createLogger } from "@ballstream/runtime";
import { launchChromium } from "@ballstream/testing";


/** Generous bounds: two shared cores, never assert on timing. */
const SESSION_TIMEOUT_MS = 60_000;
const MOVE_TIMEOUT_MS = 60_000;

/** One scrape of `/metrics`: the value of every sample line, keyed by `name{labels}`. */
type Scrape = Map<string, number>;

function parseExposition(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Sum of every series of `name` (all label sets). */
function total(s: Scrape, name: string): number {
  let sum = 0;
  for (const [series, value] of s) if (series === name || series.startsWith(`${name}{`)) sum += value;
  return sum;
}

interface Stoppable {
  stop(): Promise<void>;
}

describe("metrics during a real browser session", () => {
  const bus = new MemoryBus();
  const log = createLogger("ballstream", { level: process.env.LOG_LEVEL ?? "warn" });
  const services: Stoppable[] = [];
  let metricsUrl = "";
  let browser: Browser | undefined;
  let page: Page | undefined;

  async function scrape(): Promise<{ text: string; samples: Scrape }> {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, samples: parseExposition(text) };
  }

  /** Scrapes until `done(scrape)` holds or the deadline passes; returns the last scrape. */
  async function scrapeUntil(done: (s: Scrape) => boolean, timeoutMs: number): Promise<Scrape> {
    const deadline = Date.now() + timeoutMs;
    let last = (await scrape()).samples;
    while (!done(last) && Date.now() < deadline) {
      await Bun.sleep(250);
      last = (await scrape()).samples;
    }
    return last;
  }

  beforeAll(async () => {
    services.push(await startGenerator({ bus, log }));
    services.push(await startMedia({ bus, log }));
    const metrics = { host: "127.0.0.1", port: 0, token: undefined };
    const signaling = await startSignaling({ bus, log, config: { httpHost: "127.0.0.1", httpPort: 0, wtHost: "127.0.0.1", wtPort: 0, metrics } });
    services.unshift(signaling);
    metricsUrl = signaling.metricsUrl!;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("pageerror", (err) => log.warn({ err }, "page error"));
    await page.goto(signaling.httpUrl);
    await page.waitForFunction(
      () => {
        const hook = (window as unknown as { ballstream?: { status: string; reportsReceived: number } }).ballstream;
        return hook !== undefined && (hook.status === "error" || hook.reportsReceived > 0);
      },
      undefined,
      { timeout: SESSION_TIMEOUT_MS, polling: 250 },
    );
  }, SESSION_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await page?.evaluate(() => (window as unknown as { ballstream?: { stop(): Promise<void> } }).ballstream?.stop()).catch(() => undefined);
    await browser?.close();
    for (const s of services) await s.stop();
    await bus.drain();
  }, 30_000);

  test("the page is streaming and getting reports", async () => {
    const state = await page?.evaluate(() => {
      const hook = (window as unknown as { ballstream: { status: string; error: string | null; reportsReceived: number } }).ballstream;
      return { status: hook.status, error: hook.error, reports: hook.reportsReceived };
    });
    expect(state?.error).toBeNull();
    expect(state?.status).toBe("streaming");
    expect(state?.reports).toBeGreaterThan(0);
  });

  test("latency and error histograms move between two scrapes", async () => {
    const first = (await scrape()).samples;
    const counts = (s: Scrape) => ({
      latency: total(s, "ballstream_signaling_latency_seconds_count"),
      realtime: total(s, "ballstream_signaling_realtime_error_pixels_count"),
      frame: total(s, "ballstream_signaling_frame_error_pixels_count"),
      matched: total(s, 'ballstream_signaling_coordinates_received_total{outcome="matched"}'),
    });
    const before = counts(first);
    const after = counts(
      await scrapeUntil((s) => {
        const c = counts(s);
        return c.latency >= before.latency + 10 && c.realtime >= before.realtime + 10 && c.frame >= before.frame + 10;
      }, MOVE_TIMEOUT_MS),
    );
    expect(after.latency).toBeGreaterThanOrEqual(before.latency + 10);
    expect(after.realtime).toBeGreaterThanOrEqual(before.realtime + 10);
    expect(after.frame).toBeGreaterThanOrEqual(before.frame + 10);
    expect(after.matched).toBeGreaterThanOrEqual(before.matched + 10);
  }, MOVE_TIMEOUT_MS + 10_000);

  test("the figures are plausible: latency under 5 s, frame-matched error within a ball radius", async () => {
    const s = (await scrape()).samples;
    const count = total(s, "ballstream_signaling_latency_seconds_count");
    expect(count).toBeGreaterThan(0);
    expect(total(s, 'ballstream_signaling_latency_seconds_bucket{le="5"}')).toBe(count);
    const frameCount = total(s, "ballstream_signaling_frame_error_pixels_count");
    expect(total(s, 'ballstream_signaling_frame_error_pixels_bucket{le="24"}')).toBeGreaterThan(frameCount / 2);
    expect(total(s, "ballstream_signaling_active_sessions")).toBeGreaterThanOrEqual(1);
  });

  test("generator and media counters rise; encode time is recorded", async () => {
    const names = [
      "ballstream_generator_frames_produced_total",
      "ballstream_media_frames_sent_total",
      "ballstream_media_encode_seconds_count",
    ];
    const before = (await scrape()).samples;
    const after = await scrapeUntil((s) => names.every((n) => total(s, n) > total(before, n)), MOVE_TIMEOUT_MS);
    for (const n of names) expect(total(after, n)).toBeGreaterThan(total(before, n));
    expect(total(after, "ballstream_generator_active_sessions")).toBeGreaterThanOrEqual(1);
    expect(total(after, "ballstream_media_active_peers")).toBeGreaterThanOrEqual(1);
    expect(total(after, "ballstream_media_keyframes_total")).toBeGreaterThanOrEqual(1);
  }, MOVE_TIMEOUT_MS + 10_000);

  test("no session id appears anywhere in the exposition", async () => {
    const sessionId = await page?.evaluate(() => (window as unknown as { ballstream: { sessionId: string | null } }).ballstream.sessionId);
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await scrape()).text).not.toContain(sessionId as string);
  });
});
