/**
 * Headless Chromium for the e2e tests: Debian's `/usr/bin/chromium` through playwright-core (no downloaded
 * browsers), with loopback WebRTC allowed and QUIC left on (WebTransport needs it).
 */
import { type Browser, type Page, chromium } from "playwright-core";
import type { BallstreamHook } from "../../web/src/lib/hook.ts";

/** The Chromium binary (`CHROMIUM_PATH` overrides it). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags of every test browser. Never `--disable-quic`: it disables WebTransport. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--allow-loopback-in-peer-connection",
  "--autoplay-policy=no-user-gesture-required",
];

/** Launches the test browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** The page's test hook, as far as the tests read it (a JSON-safe snapshot). */
export type HookSnapshot = Pick<BallstreamHook, "status" | "sessionId" | "error" | "settings" | "framesDetected" | "framesSent" | "reportsReceived" | "lastReport" | "inbound">;

/** A snapshot of `window.ballstream` (null until the page has created it). */
export function readHook(page: Page): Promise<HookSnapshot | null> {
  return page.evaluate(() => {
    const hook = (globalThis as unknown as { ballstream?: BallstreamHook }).ballstream;
    if (!hook) return null;
    const { status, sessionId, error, settings, framesDetected, framesSent, reportsReceived, lastReport, inbound } = hook;
    return { status, sessionId, error, settings, framesDetected, framesSent, reportsReceived, lastReport, inbound };
  });
}

/** Polls the hook until `accept` holds (at most `timeoutMs`); throws with the last snapshot otherwise. */
export async function waitForHook(page: Page, what: string, accept: (hook: HookSnapshot) => boolean, timeoutMs = 30_000): Promise<HookSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let hook: HookSnapshot | null = null;
  while (Date.now() < deadline) {
    hook = await readHook(page);
    if (hook && accept(hook)) return hook;
    await Bun.sleep(200);
  }
  throw new Error(`page never reached "${what}" within ${timeoutMs} ms; last hook: ${JSON.stringify(hook)}`);
}
