/**
 * Headless Chromium for tests and benchmarks: Debian's `/usr/bin/chromium` through playwright-core (no downloaded
 * browsers), with loopback WebRTC allowed and QUIC left on (WebTransport needs it).
 */
import { type Browser, chromium } from "playwright-core";

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
